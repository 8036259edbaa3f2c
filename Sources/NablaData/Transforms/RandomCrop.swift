/// Crops a random `height × width` window, after padding every border by `padding` zeros
/// (`torchvision.transforms.RandomCrop(size, padding)`).
///
/// ```swift
/// let crop = RandomCrop(32, padding: 4)   // CIFAR-10 augmentation
/// ```
public struct RandomCrop: Transform {
    /// Output height.
    public let height: Int
    /// Output width.
    public let width: Int
    /// Zeros added on every border before cropping.
    public let padding: Int
    /// A random square `size × size` crop.
    public init(_ size: Int, padding: Int = 0) { self.init(height: size, width: size, padding: padding) }
    /// A random `height × width` crop.
    public init(height: Int, width: Int, padding: Int = 0) {
        check(height > 0 && width > 0, "RandomCrop: size must be positive, got \(height)x\(width)")
        check(padding >= 0, "RandomCrop: padding must be non-negative, got \(padding)")
        self.height = height; self.width = width; self.padding = padding
    }
    /// A random crop of the padded image; the offsets come from `generator`.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        let (h, w) = imageSize(input, "RandomCrop")
        let ph = h + 2 * padding, pw = w + 2 * padding
        check(ph >= height && pw >= width,
              "RandomCrop: required crop size \(height)x\(width) is larger than the padded input image size \(ph)x\(pw)")
        let top = generator.nextInt(below: ph - height + 1) - padding
        let left = generator.nextInt(below: pw - width + 1) - padding
        return cropImage(input, top: top, left: left, height: height, width: width)
    }
}
