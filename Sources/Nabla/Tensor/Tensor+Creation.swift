/// Values a `Tensor` literal can be built from: scalars and (nested) arrays of them.
public protocol TensorLiteralData {
    /// The dtype PyTorch would infer (`int64` for integers, the default float for floats, `bool`).
    static var literalDType: DType { get }
    /// Appends the elements in row-major order and reports the shape.
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int)
}

extension Int: TensorLiteralData {
    /// `.int64`.
    public static var literalDType: DType { .int64 }
    /// Appends `self`.
    public func flatten(into values: inout [Double], shape: inout [Int], depth: Int) { values.append(Double(self)) }
}
extension Double: TensorLiteralData {
    /// `.float32` (the default dtype, as PyTorch's floating literals).
    public static var literalDType: DType { .float32 }
    /// Appends `self`.
    public func flatten(into values: inout [Double], shape: inout [Int], depth: Int) { values.append(self) }
}
extension Float: TensorLiteralData {
    /// `.float32`.
    public static var literalDType: DType { .float32 }
    /// Appends `self`.
    public func flatten(into values: inout [Double], shape: inout [Int], depth: Int) { values.append(Double(self)) }
}
extension Bool: TensorLiteralData {
    /// `.bool`.
    public static var literalDType: DType { .bool }
    /// Appends 1 or 0.
    public func flatten(into values: inout [Double], shape: inout [Int], depth: Int) { values.append(self ? 1 : 0) }
}
extension Array: TensorLiteralData where Element: TensorLiteralData {
    /// The element type's dtype.
    public static var literalDType: DType { Element.literalDType }
    /// Appends every element, checking that nested arrays are not ragged.
    public func flatten(into values: inout [Double], shape: inout [Int], depth: Int) {
        if shape.count == depth { shape.append(count) }
        else { check(shape[depth] == count, "Tensor: ragged nested array: expected \(shape[depth]) elements at depth \(depth), got \(count)") }
        for e in self { e.flatten(into: &values, shape: &shape, depth: depth + 1) }
        if isEmpty && shape.count == depth + 1 && Element.self is any Collection.Type { shape.append(0) }
    }
}

extension Tensor {
    /// A tensor from a Swift scalar or nested array, as `torch.tensor(data)`.
    ///
    /// Integers give `int64`, floating values `float32` (the default dtype), Bools `bool`, unless `dtype` says otherwise.
    /// ```swift
    /// let a = Tensor([[1, 2], [3, 4]])                 // int64
    /// let w = Tensor([0.5, -1.0], requiresGrad: true)  // float32
    /// ```
    public convenience init<T: TensorLiteralData>(_ data: T, dtype: DType? = nil, requiresGrad: Bool = false, device: Device = .current) {
        var values: [Double] = []
        var shape: [Int] = []
        data.flatten(into: &values, shape: &shape, depth: 0)
        self.init(shape: shape, doubles: values, dtype: dtype ?? T.literalDType, device: device)
        if requiresGrad { self.requiresGrad = true }
    }

    /// A tensor of `shape` holding `data` in row-major order (`data.count` must equal the shape's element count).
    public convenience init<T: TensorScalar>(shape: [Int], data: [T], dtype: DType? = nil, requiresGrad: Bool = false, device: Device = .current) {
        let n = Shape.count(shape, op: "Tensor(shape:data:)")
        check(n == data.count, "Tensor(shape:data:): shape \(shape) needs \(n) elements, got \(data.count)")
        let dt = dtype ?? T.dtype
        if dt == T.dtype {
            self.init(empty: shape, dtype: dt, device: device)
            data.withUnsafeBytes { backend.upload($0, to: storage, byteOffset: 0) }
        } else {
            self.init(shape: shape, doubles: data.map(\.doubleValue), dtype: dt, device: device)
        }
        if requiresGrad { self.requiresGrad = true }
    }

    /// A tensor of `shape` from doubles converted to `dtype`.
    convenience init(shape: [Int], doubles: [Double], dtype: DType, device: Device = .current) {
        let n = Shape.count(shape, op: "Tensor")
        check(n == doubles.count, "Tensor: shape \(shape) needs \(n) elements, got \(doubles.count)")
        let host = Tensor(empty: shape, dtype: dtype, device: .cpu)
        switch dtype {
        case .float32: let p = host.storage.pointer(Float.self); for i in 0..<n { p[i] = Float(doubles[i]) }
        case .float64: let p = host.storage.pointer(Double.self); for i in 0..<n { p[i] = doubles[i] }
        case .int32: let p = host.storage.pointer(Int32.self); for i in 0..<n { p[i] = Int32(fromDouble: doubles[i]) }
        case .int64: let p = host.storage.pointer(Int64.self); for i in 0..<n { p[i] = Int64(fromDouble: doubles[i]) }
        case .bool: let p = host.storage.pointer(Bool.self); for i in 0..<n { p[i] = doubles[i] != 0 }
        }
        let moved = host.to(device)   // `host` itself on the CPU
        self.init(storage: moved.storage, shape: shape, strides: moved.strides)
    }

    /// A 0-d tensor holding `value` (`torch.tensor(3.5)`).
    public static func scalar(_ value: Double, dtype: DType = .float32, device: Device = .current) -> Tensor {
        Tensor(shape: [], doubles: [value], dtype: dtype, device: device)
    }

    // MARK: factories

    /// A tensor filled with `value` (`torch.full`).
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .current, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(empty: shape, dtype: dtype, device: device)
        t.backend.fill(t, value: value)
        if requiresGrad { t.requiresGrad = true }
        return t
    }
    /// Zeros (`torch.zeros`).
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .current, requiresGrad: Bool = false) -> Tensor {
        full(shape, 0, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }
    /// Ones (`torch.ones`).
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .current, requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }
    /// Uninitialised memory (`torch.empty`).
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .current) -> Tensor {
        Tensor(empty: shape, dtype: dtype, device: device)
    }
    /// Zeros shaped like `other` (`torch.zeros_like`).
    public static func zerosLike(_ other: Tensor, dtype: DType? = nil) -> Tensor { zeros(other.shape, dtype: dtype ?? other.dtype, device: other.device) }
    /// Ones shaped like `other` (`torch.ones_like`).
    public static func onesLike(_ other: Tensor, dtype: DType? = nil) -> Tensor { ones(other.shape, dtype: dtype ?? other.dtype, device: other.device) }
    /// `value` everywhere, shaped like `other` (`torch.full_like`).
    public static func fullLike(_ other: Tensor, _ value: Double, dtype: DType? = nil) -> Tensor {
        full(other.shape, value, dtype: dtype ?? other.dtype, device: other.device)
    }
    /// Uniform [0, 1) samples shaped like `other` (`torch.rand_like`).
    public static func randLike(_ other: Tensor, generator: Generator? = nil) -> Tensor {
        rand(other.shape, dtype: other.dtype.floatingResult, generator: generator)
    }
    /// Standard normal samples shaped like `other` (`torch.randn_like`).
    public static func randnLike(_ other: Tensor, generator: Generator? = nil) -> Tensor {
        randn(other.shape, dtype: other.dtype.floatingResult, generator: generator)
    }

    /// Values from `start` to `end` (exclusive) by `step` (`torch.arange`); integer arguments give int64.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32) -> Tensor {
        check(step != 0, "arange: step must be nonzero")
        check((end - start) / step >= 0 || start == end, "arange: upper bound \(end) and step \(step) are inconsistent with start \(start)")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n], doubles: (0..<n).map { start + Double($0) * step }, dtype: dtype)
    }
    /// `0..<end` as int64 (`torch.arange(end)`).
    public static func arange(_ end: Int, dtype: DType = .int64) -> Tensor { arange(0, Double(end), dtype: dtype) }
    /// `start..<end` by `step` as int64.
    public static func arange(_ start: Int, _ end: Int, step: Int = 1, dtype: DType = .int64) -> Tensor {
        arange(Double(start), Double(end), step: Double(step), dtype: dtype)
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive (`torch.linspace`).
    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32) -> Tensor {
        check(steps >= 0, "linspace: number of steps must be non-negative, got \(steps)")
        if steps == 1 { return Tensor(shape: [1], doubles: [start], dtype: dtype) }
        let d = (end - start) / Double(Swift.max(steps - 1, 1))
        return Tensor(shape: [steps], doubles: (0..<steps).map { i in i < steps / 2 ? start + d * Double(i) : end - d * Double(steps - 1 - i) }, dtype: dtype)
    }

    /// The identity matrix (`torch.eye`), `n x m` (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor {
        let m = m ?? n
        var v = [Double](repeating: 0, count: n * m)
        for i in 0..<Swift.min(n, m) { v[i * m + i] = 1 }
        return Tensor(shape: [n, m], doubles: v, dtype: dtype)
    }

    /// Fills a new tensor from a random distribution.
    static func random(_ shape: [Int], _ kind: RandomKind, dtype: DType, generator: Generator?, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(empty: shape, dtype: dtype)
        t.backend.random(kind, out: t, generator: generator ?? .default)
        if requiresGrad { t.requiresGrad = true }
        return t
    }
    /// Uniform samples on [0, 1) (`torch.rand`).
    public static func rand(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil, requiresGrad: Bool = false) -> Tensor {
        random(shape, .uniform(low: 0, high: 1), dtype: dtype, generator: generator, requiresGrad: requiresGrad)
    }
    /// Standard normal samples (`torch.randn`).
    public static func randn(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil, requiresGrad: Bool = false) -> Tensor {
        random(shape, .normal(mean: 0, std: 1), dtype: dtype, generator: generator, requiresGrad: requiresGrad)
    }
    /// Integers uniform on `[low, high)` (`torch.randint`).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, generator: Generator? = nil) -> Tensor {
        check(high > low, "randint: expected low < high, got low=\(low) high=\(high)")
        return random(shape, .randint(low: low, high: high), dtype: dtype, generator: generator)
    }
    /// Integers uniform on `[0, high)`.
    public static func randint(_ high: Int, _ shape: [Int], dtype: DType = .int64, generator: Generator? = nil) -> Tensor {
        randint(0, high, shape, dtype: dtype, generator: generator)
    }
    /// A random permutation of `0..<n` as int64 (`torch.randperm`), Fisher–Yates from `generator`
    /// (on the `.mt19937` engine, PyTorch's own order of swaps, so the permutation equals PyTorch's).
    public static func randperm(_ n: Int, generator: Generator? = nil) -> Tensor {
        check(n >= 0, "randperm: n must be non-negative, got \(n)")
        let g = generator ?? .default
        switch g.draw(blocks: n > 1 ? n : 0, twister: { t, _ in TorchSampling.permutation(n, &t) }) {
        case .drawn(let perm):
            return Tensor(shape: [n], data: perm.map { Int64($0) })
        case .counters(let key, let start):
            var p = Array(0..<n)
            for i in Swift.stride(from: n - 1, to: 0, by: -1) {
                let w = Philox.block(key: key, counter: start &+ UInt64(i))
                let bits: UInt64 = (UInt64(w.0) << 32) | UInt64(w.1)
                p.swapAt(i, Int(bits % UInt64(i + 1)))
            }
            return Tensor(shape: [n], data: p.map { Int64($0) })
        }
    }
    /// 1 with probability `p` (elementwise), else 0, in `p`'s dtype (`torch.bernoulli`).
    public static func bernoulli(_ p: Tensor, generator: Generator? = nil) -> Tensor {
        let u = rand(p.shape, dtype: p.dtype.floatingResult, generator: generator)
        return u.lt(p).to(p.dtype)
    }
    /// 1 with probability `p`, else 0.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        random(shape, .bernoulli(p: p), dtype: dtype, generator: generator)
    }
}

/// Zeros (`torch.zeros`).
public func zeros(_ shape: [Int], dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
    Tensor.zeros(shape, dtype: dtype, requiresGrad: requiresGrad)
}
/// Ones (`torch.ones`).
public func ones(_ shape: [Int], dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
    Tensor.ones(shape, dtype: dtype, requiresGrad: requiresGrad)
}
/// Uniform samples on [0, 1) (`torch.rand`).
public func rand(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
    Tensor.rand(shape, dtype: dtype, generator: generator)
}
/// Standard normal samples (`torch.randn`).
public func randn(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
    Tensor.randn(shape, dtype: dtype, generator: generator)
}
