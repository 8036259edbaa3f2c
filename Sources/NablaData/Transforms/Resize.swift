/// Resizes an image with bilinear interpolation (`torchvision.transforms.Resize`, with the numerics of
/// `F.interpolate(mode: "bilinear", align_corners=False, antialias=False)`).
///
/// ```swift
/// let r = Resize(256)                     // smaller edge to 256, aspect ratio kept
/// let s = Resize(height: 224, width: 224)
/// ```
/// Works on floating tensors `[..., H, W]` and returns the same dtype.
public struct Resize: Transform {
    /// The target: the smaller edge's length, or an exact height and width.
    public enum Size: Sendable, Equatable {
        /// Match the smaller edge to this length, keeping the aspect ratio.
        case smallerEdge(Int)
        /// Exactly this height and width.
        case exact(height: Int, width: Int)
    }
    /// The target size.
    public let size: Size
    /// Resize so the smaller edge is `size` (the longer edge is `Int(size * long / short)`, as torchvision).
    public init(_ size: Int) {
        check(size > 0, "Resize: size must be positive, got \(size)")
        self.size = .smallerEdge(size)
    }
    /// Resize to exactly `height × width`.
    public init(height: Int, width: Int) {
        check(height > 0 && width > 0, "Resize: size must be positive, got \(height)x\(width)")
        self.size = .exact(height: height, width: width)
    }

    /// The output height and width for an `h × w` input.
    public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        switch size {
        case .exact(let oh, let ow): return (oh, ow)
        case .smallerEdge(let s):
            if h <= w { return (s, Int(Double(s) * Double(w) / Double(h))) }
            return (Int(Double(s) * Double(h) / Double(w)), s)
        }
    }

    /// The resized image.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        let (h, w) = imageSize(input, "Resize")
        check(input.dtype.isFloatingPoint, "Resize: expected a floating tensor (apply ToTensor first), got \(input.dtype)")
        check(h > 0 && w > 0, "Resize: input image is empty, shape \(input.shape)")
        let (oh, ow) = outputSize(height: h, width: w)
        if oh == h && ow == w { return input }
        let planes = input.count / (h * w)
        let src = input.contiguous().toDoubleArray()
        let ys = bilinearTaps(input: h, output: oh), xs = bilinearTaps(input: w, output: ow)
        var out = [Double](repeating: 0, count: planes * oh * ow)
        for p in 0..<planes {
            let base = p * h * w
            for i in 0..<oh {
                let (y0, y1, ly0, ly1) = ys[i]
                let r0 = base + y0 * w, r1 = base + y1 * w
                let o = (p * oh + i) * ow
                for j in 0..<ow {
                    let (x0, x1, lx0, lx1) = xs[j]
                    out[o + j] = ly0 * (lx0 * src[r0 + x0] + lx1 * src[r0 + x1]) + ly1 * (lx0 * src[r1 + x0] + lx1 * src[r1 + x1])
                }
            }
        }
        return Tensor(shape: Array(input.shape.dropLast(2)) + [oh, ow], data: out, dtype: input.dtype)
    }
}

/// For each output index: the two source indices and their weights, as PyTorch's
/// `area_pixel_compute_source_index` with `align_corners=False`: `src = (dst + 0.5) * in / out - 0.5`, clamped at 0.
func bilinearTaps(input: Int, output: Int) -> [(Int, Int, Double, Double)] {
    let scale = Double(input) / Double(output)
    return (0..<output).map { d in
        let src = Swift.max((Double(d) + 0.5) * scale - 0.5, 0)
        let i0 = Swift.min(Int(src), input - 1)
        let i1 = i0 < input - 1 ? i0 + 1 : i0
        let l1 = src - Double(i0)
        return (i0, i1, 1 - l1, l1)
    }
}
