/// Element-wise functions of one tensor, the unary kernel set of every backend.
public enum UnaryOp: Sendable, Equatable {
    case neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, square, reciprocal
    case sin, cos, tan, tanh, sigmoid, relu, floor, ceil, round, trunc, erf, erfinv
    case gelu, geluTanh, silu, logicalNot, isnan, isinf
    /// `max(x, 0) + slope * min(x, 0)`.
    case leakyRelu(Double)
    /// `x > 0 ? x : alpha * (exp(x) - 1)`.
    case elu(Double)
    /// `log(1 + exp(beta x)) / beta`, linear above `threshold`.
    case softplus(beta: Double, threshold: Double)
    /// Clamps into `[min, max]` (either bound may be infinite).
    case clamp(min: Double, max: Double)
    /// `x ** exponent`.
    case powScalar(Double)
    /// `base ** x`.
    case rpowScalar(Double)

    /// Whether the op returns bool whatever its input.
    public var returnsBool: Bool {
        switch self { case .logicalNot, .isnan, .isinf: return true; default: return false }
    }
    /// Whether the op needs floating input (integers are promoted to the default float dtype).
    public var needsFloat: Bool {
        switch self {
        case .neg, .abs, .sign, .square, .relu, .floor, .ceil, .round, .trunc, .logicalNot, .isnan, .isinf, .clamp:
            return false
        default: return true
        }
    }
}

/// Element-wise functions of two tensors (broadcast by strides), the binary kernel set of every backend.
public enum BinaryOp: Sendable, Equatable {
    case add, sub, mul, div, pow, maximum, minimum, atan2, remainder, floorDivide
    case eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor
    /// `b > 0 ? a : 0`: the gradient `a` of ReLU masked by its output `b` (PyTorch's `threshold_backward`).
    case thresholdBackward

    /// Whether the op returns bool.
    public var returnsBool: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr, .logicalXor: return true
        default: return false
        }
    }
}

/// Reductions over a set of dims, the reduce kernel set of every backend.
public enum ReduceOp: Sendable, Equatable {
    case sum, prod, max, min, all, any
}

/// Distributions the random kernel samples from.
public enum RandomKind: Sendable, Equatable {
    /// Uniform on `[low, high)`.
    case uniform(low: Double, high: Double)
    /// Normal with `mean` and `std`.
    case normal(mean: Double, std: Double)
    /// 1 with probability `p`, else 0.
    case bernoulli(p: Double)
    /// Integers uniform on `[low, high)`.
    case randint(low: Int, high: Int)
}

/// A compute device's storage and kernels (DESIGN §1).
///
/// Every op calls a backend through this protocol, so a new device implements it and nothing
/// above changes. Kernels receive `out` already allocated on the same device with its final shape;
/// inputs to `binary`/`ternary` are already broadcast (stride 0 on broadcast dims).
public protocol Backend: AnyObject, Sendable {
    /// The device this backend computes on.
    var device: Device { get }
    /// Allocates `byteCount` bytes (64-byte aligned).
    func allocate(byteCount: Int) -> UnsafeMutableRawPointer
    /// Frees memory from `allocate`.
    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int)
    /// Copies host bytes into the device buffer at `offset` bytes.
    func upload(_ bytes: UnsafeRawBufferPointer, to storage: Storage, byteOffset: Int)
    /// Copies device bytes at `offset` bytes into host memory.
    func download(_ storage: Storage, byteOffset: Int, into bytes: UnsafeMutableRawBufferPointer)

    /// Strided copy with dtype conversion: `dst[i] = src[i]` (same shape; src may be broadcast).
    func copy(_ src: Tensor, into dst: Tensor)
    /// Writes `value` into every element of `dst`.
    func fill(_ dst: Tensor, value: Double)
    /// `out = op(x)`.
    func unary(_ op: UnaryOp, _ x: Tensor, out: Tensor)
    /// `out = op(a, b)`, `a` and `b` viewed with `out`'s shape.
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, out: Tensor)
    /// `out = op(a, scalar)` or, when `reversed`, `op(scalar, a)`.
    func binaryScalar(_ op: BinaryOp, _ a: Tensor, _ scalar: Double, reversed: Bool, out: Tensor)
    /// `out = cond ? a : b`, all viewed with `out`'s shape.
    func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor, out: Tensor)
    /// Reduces `x` over `dims` into `out` (shape of `x` with `dims` set to 1).
    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], out: Tensor)
    /// Max or min along `dim`: values and int64 indices (first occurrence), shapes with `dim` set to 1.
    func argReduce(max: Bool, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor)
    /// Cumulative sum (or product) along `dim`.
    func scan(product: Bool, _ x: Tensor, dim: Int, out: Tensor)
    /// Batched matrix product: `out[b] = a[b] @ b[b]` for 3-D tensors (batch dims may have stride 0).
    func matmul(_ a: Tensor, _ b: Tensor, out: Tensor)
    /// Batched matrix product added into `out`: `out[b] += a[b] @ b[b]` (a GEMM with beta = 1; shapes as `matmul`).
    func matmulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor)
    /// `out[..., i, ...] = x[..., index[..., i, ...], ...]` along `dim` (`torch.gather`).
    func gather(_ x: Tensor, dim: Int, index: Tensor, out: Tensor)
    /// `out[..., index[i], ...] (+)= src[..., i, ...]` along `dim` (`out` holds the initial values).
    func scatter(_ src: Tensor, dim: Int, index: Tensor, out: Tensor, accumulate: Bool)
    /// Sorts along `dim` (stable), writing values and int64 indices.
    func sort(_ x: Tensor, dim: Int, descending: Bool, values: Tensor, indices: Tensor)
    /// Fills `out` with samples drawn from `kind` using `generator`.
    func random(_ kind: RandomKind, out: Tensor, generator: Generator)
    /// Unfolds the sliding windows of `x` [N, C, H, W] into `out` [C·kh·kw, N·oh·ow] (both contiguous; see `ConvGeometry`).
    func im2col(_ x: Tensor, geometry: ConvGeometry, out: Tensor)
    /// The adjoint of `im2col`: sums `cols` [C·kh·kw, N·oh·ow] back into `out` [N, C, H, W] (overwritten).
    func col2im(_ cols: Tensor, geometry: ConvGeometry, out: Tensor)
    /// Max over the windows of each plane of `x` [P, H, W]: values and int64 flat in-plane indices, [P, oh, ow].
    func maxPool2d(_ x: Tensor, windows: PoolWindows, out: Tensor, indices: Tensor)
    /// Max-pool backward: `out` [P, H, W] = 0, then `out[p, indices[p, i]] += grad[p, i]`.
    func maxPool2dBackward(_ grad: Tensor, indices: Tensor, out: Tensor)
    /// `out` [B, A, L] = `x` [A, B, L] with dims 0 and 1 swapped, plus `bias[a]` when given (all contiguous).
    func swapLeadingDims(_ x: Tensor, bias: Tensor?, out: Tensor)
}

extension Backend {
    /// Default: the product into a temporary, then added into `out`.
    public func matmulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor) {
        let product = Tensor(empty: out.shape, dtype: out.dtype, device: out.device)
        matmul(a, b, out: product)
        binary(.add, out, product, out: out)
    }
}

/// Where optional backends (CUDA) register themselves when they load.
public enum BackendRegistry {
    nonisolated(unsafe) private static var cudaFactory: (@Sendable (Int) -> (any Backend)?)? = nil

    /// Installs the function that returns the CUDA backend for a device ordinal.
    public static func registerCUDA(_ factory: @escaping @Sendable (Int) -> (any Backend)?) { cudaFactory = factory }

    /// The CUDA backend for device `ordinal`, if one is loaded and the device exists.
    public static func cuda(_ ordinal: Int) -> (any Backend)? { cudaFactory?(ordinal) }

    /// Whether a CUDA device is usable (`torch.cuda.is_available()`).
    public static var cudaAvailable: Bool { cuda(0) != nil }
}
