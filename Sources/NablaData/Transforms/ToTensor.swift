/// Turns an 8-bit image into a float32 tensor `[C, H, W]` in [0, 1] (`torchvision.transforms.ToTensor`).
///
/// The input is an integer tensor of byte values (0...255) laid out `[H, W, C]` (the default, as a PIL image
/// or NumPy array) or `[C, H, W]`, or `[H, W]` for one channel. Integer inputs are divided by 255; floating
/// inputs are only rearranged, as torchvision does for non-uint8 arrays.
///
/// ```swift
/// let img = ToTensor()(Tensor(shape: [32, 32, 3], data: bytes.map { Int64($0) }))   // [3, 32, 32] float32
/// ```
public struct ToTensor: Transform {
    /// How the input's dimensions are ordered.
    public enum Layout: Sendable { case hwc, chw }
    /// The input layout (default `.hwc`).
    public let layout: Layout
    /// A ToTensor for inputs laid out as `layout`.
    public init(layout: Layout = .hwc) { self.layout = layout }

    /// The image as float32 `[C, H, W]`.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        check(input.shape.count == 2 || input.shape.count == 3, "ToTensor: expected an image [H, W, C], [C, H, W] or [H, W], got shape \(input.shape)")
        var x = input
        if x.shape.count == 2 { x = x.unsqueeze(0) } else if layout == .hwc { x = x.permute(2, 0, 1) }
        if x.dtype.isFloatingPoint { return x.to(.float32).contiguous() }
        return (x.to(.float32) / 255).contiguous()
    }

    /// The image from raw bytes in `layout` order (`ToTensor()(pilImage)`).
    public func callAsFunction(bytes: [UInt8], height: Int, width: Int, channels: Int) -> Tensor {
        check(bytes.count == height * width * channels,
              "ToTensor: \(bytes.count) bytes do not make a \(height)x\(width) image with \(channels) channels")
        let shape = layout == .hwc ? [height, width, channels] : [channels, height, width]
        return apply(Tensor(shape: shape, data: bytes.map { Float($0) / 255 }), generator: .default)
    }
}
