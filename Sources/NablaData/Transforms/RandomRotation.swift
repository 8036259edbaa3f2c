import Foundation

/// Rotates an image by a random angle in `[-degrees, degrees]` about its center, nearest-neighbour,
/// filling uncovered pixels with `fill` (`torchvision.transforms.RandomRotation(degrees)`, `expand=False`).
///
/// Positive angles turn the image counter-clockwise, as torchvision.
public struct RandomRotation: Transform {
    /// The smallest angle, in degrees.
    public let minDegrees: Double
    /// The largest angle, in degrees.
    public let maxDegrees: Double
    /// The value of pixels that come from outside the image.
    public let fill: Double
    /// Angles uniform in `[-degrees, degrees]`.
    public init(_ degrees: Double, fill: Double = 0) {
        check(degrees >= 0, "RandomRotation: if degrees is a single number, it must be positive, got \(degrees)")
        self.init(min: -degrees, max: degrees, fill: fill)
    }
    /// Angles uniform in `[min, max]`.
    public init(min: Double, max: Double, fill: Double = 0) {
        check(min <= max, "RandomRotation: degrees should be [min, max] with min <= max, got [\(min), \(max)]")
        minDegrees = min; maxDegrees = max; self.fill = fill
    }

    /// The image rotated by an angle drawn from `generator`.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        let angle = minDegrees + (maxDegrees - minDegrees) * generator.nextUnit()
        return RandomRotation.rotate(input, degrees: angle, fill: fill)
    }

    /// `input` (`[..., H, W]`) rotated counter-clockwise by `degrees` about its center (`TF.rotate`).
    public static func rotate(_ input: Tensor, degrees: Double, fill: Double = 0) -> Tensor {
        let (h, w) = imageSize(input, "rotate")
        let planes = input.count / Swift.max(h * w, 1)
        let src = input.contiguous().toDoubleArray()
        let a = degrees * Double.pi / 180, c = Foundation.cos(a), s = Foundation.sin(a)
        let cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
        var out = [Double](repeating: fill, count: src.count)
        for i in 0..<h {
            for j in 0..<w {
                let dx = Double(j) - cx, dy = Double(i) - cy
                let sx = (c * dx - s * dy + cx).rounded(), sy = (s * dx + c * dy + cy).rounded()
                guard sx >= 0, sy >= 0, sx < Double(w), sy < Double(h) else { continue }
                let si = Int(sy), sj = Int(sx)
                for p in 0..<planes { out[(p * h + i) * w + j] = src[(p * h + si) * w + sj] }
            }
        }
        return Tensor(shape: input.shape, data: out, dtype: input.dtype)
    }
}
