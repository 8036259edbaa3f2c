// Dropout: zero elements (or whole channels) with probability p and scale the rest by 1/(1-p).
// Masks come only from the generator, so a restored generator state reproduces them.

/// Zeroes each element with probability `p` and scales the others by `1/(1-p)` (`torch.nn.functional.dropout`).
///
/// In evaluation (`training: false`) or with `p == 0` it returns `input` unchanged and draws no random numbers.
/// ```swift
/// let y = dropout(Tensor.ones([4, 4]), p: 0.5, generator: Generator(seed: 1))   // entries 0 or 2
/// ```
/// - Parameter generator: the source of the mask; the default generator when nil.
public func dropout(_ input: Tensor, p: Double = 0.5, training: Bool = true, generator: Generator? = nil) -> Tensor {
    check(p >= 0 && p <= 1, "dropout: probability has to be between 0 and 1, but got \(p)")
    if !training || p == 0 { return input }
    check(input.dtype.isFloatingPoint, "dropout: expected a floating point input, got \(input.dtype)")
    return DropoutSupport.masked(input, maskShape: input.shape, p: p, generator: generator)
}

/// Zeroes whole channels of an `(N, C, H, W)` or `(C, H, W)` input with probability `p`, scaling the
/// others by `1/(1-p)` (`torch.nn.functional.dropout2d`).
///
/// ```swift
/// let y = dropout2d(Tensor.randn([2, 8, 5, 5]), p: 0.2)   // each [5, 5] plane kept or zeroed
/// ```
public func dropout2d(_ input: Tensor, p: Double = 0.5, training: Bool = true, generator: Generator? = nil) -> Tensor {
    check(p >= 0 && p <= 1, "dropout2d: probability has to be between 0 and 1, but got \(p)")
    check(input.rank == 3 || input.rank == 4,
          "dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape \(input.shape)")
    if !training || p == 0 { return input }
    check(input.dtype.isFloatingPoint, "dropout2d: expected a floating point input, got \(input.dtype)")
    let lead = input.rank - 2
    let maskShape = Array(input.shape.prefix(lead)) + [1, 1]
    return DropoutSupport.masked(input, maskShape: maskShape, p: p, generator: generator)
}

extension Tensor {
    /// `dropout(self, p:, training:, generator:)` (`F.dropout`).
    public func dropout(p: Double = 0.5, training: Bool = true, generator: Generator? = nil) -> Tensor {
        Nabla.dropout(self, p: p, training: training, generator: generator)
    }
}

/// The shared mask-and-scale step of the dropout ops.
enum DropoutSupport {
    /// `input * mask / (1 - p)` with a Bernoulli(1 - p) mask of `maskShape` (broadcast over `input`).
    static func masked(_ input: Tensor, maskShape: [Int], p: Double, generator: Generator?) -> Tensor {
        if p == 1 { return input * Tensor.zeros(maskShape, dtype: input.dtype, device: input.device) }
        let keep = Tensor.bernoulli(maskShape, p: 1 - p, dtype: input.dtype, generator: generator)
        let mask = OpSupport.binaryScalar(.mul, keep.to(input.device), 1 / (1 - p),
                                          reversed: false, name: "dropout")
        return input * mask
    }
}
