// PyTorch's short spellings, so that a PyTorch line ports as it is written: dtype casts (`x.float()`),
// `x.T`, `x.data`, `x.size()`, variadic creation (`Tensor.randn(2, 3)`), positional dims (`x.flatten(1)`,
// `cat(xs, 1)`), nested `toArray()` (`x.tolist()`), and in-place compound assignment (`w -= lr * g`).

extension Tensor {
    // MARK: dtype casts

    /// Converts to float32 (PyTorch's `x.float()`); `self` when already float32.
    public func float() -> Tensor { to(.float32) }
    /// Converts to float64 (PyTorch's `x.double()`); `self` when already float64.
    public func double() -> Tensor { to(.float64) }
    /// Converts to int64 (PyTorch's `x.long()`); floats truncate toward zero.
    public func long() -> Tensor { to(.int64) }
    /// Converts to int32 (PyTorch's `x.int()`); floats truncate toward zero.
    public func int() -> Tensor { to(.int32) }
    /// Converts to bool (PyTorch's `x.bool()`): nonzero elements become `true`.
    public func bool() -> Tensor { to(.bool) }

    // MARK: views and aliases

    /// The tensor with all its dims reversed (PyTorch's `x.T`): the transpose of a matrix, `self` for 0-d and 1-d.
    ///
    /// ```swift
    /// let w = Tensor.randn(3, 4)
    /// w.T.shape   // [4, 3]
    /// ```
    public var T: Tensor { rank < 2 ? self : permute(Array((0..<rank).reversed())) }

    /// The same storage cut from the graph (PyTorch's `x.data`, which is `x.detach()`): writes to it change `self`
    /// without being recorded, as in `w.data -= 0.01 * w.grad!.data`.
    public var data: Tensor { detached() }

    /// The shape (PyTorch's `x.size()`, a `torch.Size`); `size(dim)` gives one dimension.
    public func size() -> [Int] { shape }

    /// Flattens dims `startDim...endDim` into one, with positional dims as PyTorch writes them (`x.flatten(1)`).
    public func flatten(_ startDim: Int, _ endDim: Int = -1) -> Tensor { flatten(startDim: startDim, endDim: endDim) }

    // MARK: nested arrays

    /// The elements of a matrix as rows (PyTorch's `x.tolist()` for a 2-d tensor).
    ///
    /// The element type comes from the context or the argument; the tensor is converted to it first.
    /// ```swift
    /// let rows: [[Float]] = Tensor([[1, 2], [3, 4]]).toArray()   // [[1, 2], [3, 4]]
    /// ```
    /// - Precondition: the tensor is 2-d.
    public func toArray<T: TensorScalar>(_: [[T]].Type = [[T]].self) -> [[T]] {
        check(rank == 2, "toArray: [[\(T.self)]] needs a 2-d tensor, got shape \(shape) (use [\(T.self)] for the flat elements)")
        let flat = toArray(T.self), cols = shape[1]
        return (0..<shape[0]).map { Array(flat[($0 * cols)..<(($0 + 1) * cols)]) }
    }

    /// The elements of a 3-d tensor as nested arrays (PyTorch's `x.tolist()` for a 3-d tensor).
    /// - Precondition: the tensor is 3-d.
    public func toArray<T: TensorScalar>(_: [[[T]]].Type = [[[T]]].self) -> [[[T]]] {
        check(rank == 3, "toArray: [[[\(T.self)]]] needs a 3-d tensor, got shape \(shape)")
        let flat = toArray(T.self), b = shape[1], c = shape[2]
        return (0..<shape[0]).map { i in
            (0..<b).map { j in Array(flat[((i * b + j) * c)..<((i * b + j + 1) * c)]) }
        }
    }

    // MARK: variadic creation

    /// Zeros of shape `shape...` (PyTorch's `torch.zeros(2, 3)`).
    public static func zeros(_ shape: Int..., dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
        zeros(shape, dtype: dtype, requiresGrad: requiresGrad)
    }
    /// Ones of shape `shape...` (PyTorch's `torch.ones(2, 3)`).
    public static func ones(_ shape: Int..., dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
        ones(shape, dtype: dtype, requiresGrad: requiresGrad)
    }
    /// Uniform samples in [0, 1) of shape `shape...` (PyTorch's `torch.rand(2, 3)`).
    public static func rand(_ shape: Int..., dtype: DType = .float32, generator: Generator? = nil, requiresGrad: Bool = false) -> Tensor {
        rand(shape, dtype: dtype, generator: generator, requiresGrad: requiresGrad)
    }
    /// Standard normal samples of shape `shape...` (PyTorch's `torch.randn(2, 3)`).
    public static func randn(_ shape: Int..., dtype: DType = .float32, generator: Generator? = nil, requiresGrad: Bool = false) -> Tensor {
        randn(shape, dtype: dtype, generator: generator, requiresGrad: requiresGrad)
    }

    // MARK: in-place compound assignment

    /// Adds `rhs` to `lhs` in place (PyTorch's `x += y`, which is `x.add_(y)`): every view of `lhs` sees it.
    public static func += (lhs: Tensor, rhs: Tensor) { lhs.add_(rhs) }
    /// Adds a scalar in place (PyTorch's `x += 1`).
    public static func += (lhs: Tensor, rhs: Double) { lhs.add_(rhs) }
    /// Subtracts `rhs` in place (PyTorch's `w -= lr * w.grad`, inside `noGrad` for a parameter).
    public static func -= (lhs: Tensor, rhs: Tensor) { lhs.sub_(rhs) }
    /// Subtracts a scalar in place (PyTorch's `x -= 1`).
    public static func -= (lhs: Tensor, rhs: Double) { lhs.sub_(rhs) }
    /// Multiplies by `rhs` in place (PyTorch's `x *= y`).
    public static func *= (lhs: Tensor, rhs: Tensor) { lhs.mul_(rhs) }
    /// Multiplies by a scalar in place (PyTorch's `x *= 0.5`).
    public static func *= (lhs: Tensor, rhs: Double) { lhs.mul_(rhs) }
    /// Divides by `rhs` in place (PyTorch's `x /= y`).
    public static func /= (lhs: Tensor, rhs: Tensor) { lhs.div_(rhs) }
    /// Divides by a scalar in place (PyTorch's `x /= 2`).
    public static func /= (lhs: Tensor, rhs: Double) { lhs.div_(rhs) }
}

/// Zeros of shape `shape...` (PyTorch's `torch.zeros(2, 3)`).
public func zeros(_ shape: Int..., dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
    Tensor.zeros(shape, dtype: dtype, requiresGrad: requiresGrad)
}
/// Ones of shape `shape...` (PyTorch's `torch.ones(2, 3)`).
public func ones(_ shape: Int..., dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
    Tensor.ones(shape, dtype: dtype, requiresGrad: requiresGrad)
}
/// Uniform samples in [0, 1) of shape `shape...` (PyTorch's `torch.rand(2, 3)`).
public func rand(_ shape: Int..., dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
    Tensor.rand(shape, dtype: dtype, generator: generator)
}
/// Standard normal samples of shape `shape...` (PyTorch's `torch.randn(2, 3)`).
public func randn(_ shape: Int..., dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
    Tensor.randn(shape, dtype: dtype, generator: generator)
}

/// Concatenates along a positional `dim`, as PyTorch's `torch.cat(xs, 1)`.
public func cat(_ tensors: [Tensor], _ dim: Int) -> Tensor { cat(tensors, dim: dim) }

/// Stacks along a new positional `dim`, as PyTorch's `torch.stack(xs, 1)`.
public func stack(_ tensors: [Tensor], _ dim: Int) -> Tensor { stack(tensors, dim: dim) }
