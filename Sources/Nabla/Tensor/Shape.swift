/// Errors from shape rules, thrown by graph and config builders; eager ops trap with the same text.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    /// The op whose shape rule failed.
    public let op: String
    /// What went wrong, naming the shapes.
    public let message: String
    /// Creates a shape error.
    public init(op: String, _ message: String) { self.op = op; self.message = message }
    /// `"op: message"`.
    public var description: String { "\(op): \(message)" }
}

/// Shape arithmetic shared by every op: broadcasting, strides, dim normalisation.
///
/// Each rule has a throwing form (`try Shapes.broadcast`) for builders that report errors, and the
/// eager ops call the trapping form, which stops with the same message.
public enum Shape {
    /// Number of elements of `shape`; traps on a negative size.
    public static func count(_ shape: [Int], op: StaticString) -> Int {
        var n = 1
        for s in shape {
            check(s >= 0, "\(op): negative dimension \(s) in shape \(shape)")
            n *= s
        }
        return n
    }

    /// Whether two shapes are equal (inlined: the op path compares shapes on every call).
    @inline(__always) public static func same(_ a: [Int], _ b: [Int]) -> Bool {
        let n = a.count
        if n != b.count { return false }
        for i in 0..<n where a[i] != b[i] { return false }
        return true
    }

    /// Row-major strides of `shape`.
    ///
    /// A shape with a zero dimension holds no element, so its strides are never used to address memory: they
    /// saturate at `Int.max` instead of overflowing (`[0, 1 << 40, 1 << 40]`).
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        var i = shape.count - 1
        while i >= 0 {
            strides[i] = acc
            let (p, overflow) = acc.multipliedReportingOverflow(by: max(shape[i], 1))
            acc = overflow ? Int.max : p
            i -= 1
        }
        return strides
    }

    /// Whether `strides` describe a dense row-major layout of `shape` (size-1 dims ignored).
    public static func isContiguous(_ shape: [Int], _ strides: [Int]) -> Bool {
        var expected = 1
        var i = shape.count - 1
        while i >= 0 {
            if shape[i] != 1 {
                if strides[i] != expected { return shape[i] == 0 }
                expected *= shape[i]
            }
            i -= 1
        }
        return true
    }

    /// Normalises a possibly negative `dim` for a tensor of `rank` dims, or throws.
    public static func normalizeThrowing(_ dim: Int, _ rank: Int, op: String) throws(ShapeError) -> Int {
        let r = max(rank, 1)
        guard dim >= -r && dim < r else {
            throw ShapeError(op: op, "dimension \(dim) out of range for a tensor of \(rank) dims (expected \(-r)...\(r - 1))")
        }
        return dim < 0 ? dim + r : dim
    }

    /// Normalises a possibly negative `dim`; traps naming `op` when out of range.
    public static func normalize(_ dim: Int, _ rank: Int, op: StaticString) -> Int {
        let r = max(rank, 1)
        if dim >= 0 && dim < r { return dim }
        if dim < 0 && dim >= -r { return dim + r }
        nablaFail("\(op): dimension \(dim) out of range for a tensor of \(rank) dims (expected \(-r)...\(r - 1))")
    }

    /// The NumPy broadcast of two shapes, or throws naming `op` and both shapes.
    public static func broadcastThrowing(_ a: [Int], _ b: [Int], op: String) throws(ShapeError) -> [Int] {
        if a == b { return a }
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw ShapeError(op: op, "shapes \(a) and \(b) do not broadcast (dimension \(i - n): \(da) vs \(db))")
            }
        }
        return out
    }

    /// The NumPy broadcast of two shapes; traps naming `op` and both shapes.
    public static func broadcast(_ a: [Int], _ b: [Int], op: StaticString) -> [Int] {
        if a == b { return a }
        do { return try broadcastThrowing(a, b, op: "\(op)") } catch { nablaFail(error.description) }
    }

    /// Strides that read a tensor of `shape`/`strides` as if expanded to `target` (0 on broadcast dims).
    public static func broadcastStrides(_ shape: [Int], _ strides: [Int], to target: [Int]) -> [Int] {
        if shape == target { return strides }
        let lead = target.count - shape.count
        var out = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] == target[i + lead] {
            out[i + lead] = strides[i]
        }
        return out
    }

    /// Dims of `target` that were broadcast from `source` (to sum a gradient back to `source`).
    public static func reducedDims(from target: [Int], to source: [Int]) -> (dims: [Int], squeezeLeading: Int) {
        let lead = target.count - source.count
        var dims: [Int] = []
        for i in 0..<target.count {
            if i < lead { dims.append(i) } else if source[i - lead] == 1 && target[i] != 1 { dims.append(i) }
        }
        return (dims, lead)
    }
}
