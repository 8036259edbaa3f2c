/// Crops the center `height × width` of an image, padding with zeros when the image is smaller
/// (`torchvision.transforms.CenterCrop`).
public struct CenterCrop: Transform {
    /// Output height.
    public let height: Int
    /// Output width.
    public let width: Int
    /// A square `size × size` crop.
    public init(_ size: Int) { self.init(height: size, width: size) }
    /// A `height × width` crop.
    public init(height: Int, width: Int) {
        check(height > 0 && width > 0, "CenterCrop: size must be positive, got \(height)x\(width)")
        self.height = height; self.width = width
    }
    /// The centered crop of the last two dims.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        let (h, w) = imageSize(input, "CenterCrop")
        let top = Int((Double(h - height) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(w - width) / 2).rounded(.toNearestOrEven))
        return cropImage(input, top: top, left: left, height: height, width: width)
    }
}
