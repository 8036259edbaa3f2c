/// Normalizes each channel: `(x - mean[c]) / std[c]` (`torchvision.transforms.Normalize`).
///
/// ```swift
/// let norm = Normalize(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
/// ```
/// Works on `[C, H, W]` or `[N, C, H, W]` floating tensors; one mean/std value applies to every channel.
public struct Normalize: Transform {
    /// Per-channel means.
    public let mean: [Double]
    /// Per-channel standard deviations (non-zero).
    public let std: [Double]
    /// A Normalize with per-channel `mean` and `std` of equal length.
    public init(mean: [Double], std: [Double]) {
        check(!mean.isEmpty && mean.count == std.count, "Normalize: mean \(mean) and std \(std) must be non-empty and of equal length")
        check(std.allSatisfy { $0 != 0 }, "Normalize: std evaluated to zero after conversion, leading to division by zero (std \(std))")
        self.mean = mean; self.std = std
    }
    /// The normalized tensor, same shape and dtype.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        check(input.dtype.isFloatingPoint, "Normalize: input should be a float tensor, got \(input.dtype)")
        check(input.shape.count >= 3, "Normalize: expected a tensor image [..., C, H, W], got shape \(input.shape)")
        let c = input.shape[input.shape.count - 3]
        check(mean.count == 1 || mean.count == c, "Normalize: \(mean.count) mean values for an image with \(c) channels")
        let m = Tensor(shape: [mean.count, 1, 1], data: mean, dtype: input.dtype)
        let s = Tensor(shape: [std.count, 1, 1], data: std, dtype: input.dtype)
        return (input - m) / s
    }
}
