// Similarity and distance between batches of vectors, built from norm, div and sum (autograd comes from its parts).

/// The cosine of the angle between `x1` and `x2` along `dim` (`torch.nn.functional.cosine_similarity`).
///
/// The inputs broadcast against each other; the result has their broadcast shape without `dim`. As in
/// PyTorch, each input is divided by its own norm first, `x / max(‖x‖, eps)`, so the result stays in
/// [-1, 1] and nothing overflows; the clamp does not reach the gradient (PyTorch clamps under `no_grad`).
///
/// ```swift
/// let a = Tensor([[1.0, 0], [1, 1]]), b = Tensor([[1.0, 0], [-1, -1]])
/// cosineSimilarity(a, b)          // tensor([ 1., -1.])
/// ```
/// - Parameters:
///   - x1: first input.
///   - x2: second input, broadcastable with `x1`.
///   - dim: the vector dim (default 1, as PyTorch); negative counts from the end.
///   - eps: the smallest norm a vector is divided by.
/// - Precondition: the inputs broadcast and their common dtype is floating point.
public func cosineSimilarity(_ x1: Tensor, _ x2: Tensor, dim: Int = 1, eps: Double = 1e-8) -> Tensor {
    let dtype = OpSupport.resultType(x1, x2)
    check(dtype.isFloatingPoint, "cosineSimilarity: expected floating point inputs, got \(x1.dtype) and \(x2.dtype)")
    let shape = Shape.broadcast(x1.shape, x2.shape, op: "cosineSimilarity")
    let d = Shape.normalize(dim, Swift.max(shape.count, 1), op: "cosineSimilarity")
    let a = x1.to(dtype).expand(shape), b = x2.to(dtype).expand(shape)
    // ‖x‖ with value max(‖x‖, eps) and the gradient of ‖x‖ itself (n - n̄ is an exact zero that carries the gradient).
    func clampedNorm(_ x: Tensor) -> Tensor {
        let n = x.norm(p: 2, dim: d, keepDim: true)
        let plain = n.detached()
        return n - plain + plain.clampMin(eps)
    }
    return ((a / clampedNorm(a)) * (b / clampedNorm(b))).sum(dim: d)
}

/// The `p`-norm of `x1 - x2 + eps` over the last dim (`torch.nn.functional.pairwise_distance`).
///
/// The inputs broadcast against each other; `eps` keeps the gradient finite when `x1 == x2`.
///
/// ```swift
/// pairwiseDistance(Tensor([[0.0, 0]]), Tensor([[3.0, 4]]))     // tensor([5.0000])
/// ```
/// - Parameters:
///   - p: the norm degree (2 by default; any value `norm` accepts).
///   - eps: added to the difference, as PyTorch.
///   - keepDim: keep the reduced dim with size 1.
public func pairwiseDistance(_ x1: Tensor, _ x2: Tensor, p: Double = 2, eps: Double = 1e-6, keepDim: Bool = false) -> Tensor {
    let dtype = OpSupport.resultType(x1, x2)
    check(dtype.isFloatingPoint, "pairwiseDistance: expected floating point inputs, got \(x1.dtype) and \(x2.dtype)")
    _ = Shape.broadcast(x1.shape, x2.shape, op: "pairwiseDistance")
    let rank = Swift.max(x1.rank, x2.rank)
    check(rank >= 1, "pairwiseDistance: expected inputs with at least one dim, got \(x1.shape) and \(x2.shape)")
    return (x1.to(dtype) - x2.to(dtype) + eps).norm(p: p, dim: rank - 1, keepDim: keepDim)
}

extension Tensor {
    /// `cosineSimilarity(self, other, dim:eps:)`.
    public func cosineSimilarity(_ other: Tensor, dim: Int = 1, eps: Double = 1e-8) -> Tensor {
        Nabla.cosineSimilarity(self, other, dim: dim, eps: eps)
    }

    /// `pairwiseDistance(self, other, p:eps:keepDim:)`.
    public func pairwiseDistance(_ other: Tensor, p: Double = 2, eps: Double = 1e-6, keepDim: Bool = false) -> Tensor {
        Nabla.pairwiseDistance(self, other, p: p, eps: eps, keepDim: keepDim)
    }
}
