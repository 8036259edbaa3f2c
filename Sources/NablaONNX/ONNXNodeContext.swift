import Nabla

/// What an operator builder sees of one node: its name, type, opset, attributes, and which inputs are constants.
///
/// Builders read attributes through the typed accessors (which throw a clear error naming the node when an
/// attribute has the wrong type) and may use constant inputs (initializers, folded values) to precompute at load.
struct ONNXNodeContext {
    /// The node's name (or a generated one, `"<OpType>_<index>"`, when the file gives none).
    let name: String
    /// The operator type (`"Conv"`).
    let opType: String
    /// The default-domain opset the model imports.
    let opset: Int
    /// The node's attributes by name.
    let attributes: [String: Onnx_AttributeProto]
    /// The node's inputs: the constant value where the input is known at load time, `nil` otherwise.
    let constants: [Tensor?]
    /// Which inputs are present (an empty name in the file means an omitted optional input).
    let present: [Bool]
    /// How many outputs the node declares.
    let outputCount: Int

    /// An error for this node.
    func invalid(_ reason: String) -> ONNXError { .invalidNode(node: name, opType: opType, reason: reason) }

    /// The error for an operator (or form of it) this importer does not implement.
    func unsupported() -> ONNXError { .unsupportedOperator(node: name, opType: opType, domain: "", opset: opset) }

    /// An integer attribute, or `defaultValue` when absent.
    func int(_ key: String, _ defaultValue: Int) throws(ONNXError) -> Int {
        guard let a = attributes[key] else { return defaultValue }
        guard a.type == .int || (a.type == .undefined && a.hasI) else { throw invalid("attribute '\(key)' must be an integer") }
        guard let v = Int(exactly: a.i) else { throw invalid("attribute '\(key)' is out of range") }
        return v
    }

    /// A float attribute, or `defaultValue` when absent.
    func float(_ key: String, _ defaultValue: Double) throws(ONNXError) -> Double {
        guard let a = attributes[key] else { return defaultValue }
        guard a.type == .float || (a.type == .undefined && a.hasF) else { throw invalid("attribute '\(key)' must be a float") }
        return Double(a.f)
    }

    /// An integer-list attribute, or `nil` when absent.
    func ints(_ key: String) throws(ONNXError) -> [Int]? {
        guard let a = attributes[key] else { return nil }
        guard a.type == .ints || a.type == .undefined else { throw invalid("attribute '\(key)' must be a list of integers") }
        var out: [Int] = []
        for v in a.ints {
            guard let i = Int(exactly: v), abs(i) < 1 << 40 || i == Int(Int64.max) || i == Int(Int64.min) else {
                throw invalid("attribute '\(key)' holds an out-of-range value \(v)")
            }
            out.append(i)
        }
        return out
    }

    /// A float-list attribute, or `nil` when absent.
    func floats(_ key: String) throws(ONNXError) -> [Float]? {
        guard let a = attributes[key] else { return nil }
        guard a.type == .floats || a.type == .undefined else { throw invalid("attribute '\(key)' must be a list of floats") }
        return a.floats
    }

    /// A string attribute, or `defaultValue` when absent.
    func string(_ key: String, _ defaultValue: String) throws(ONNXError) -> String {
        guard let a = attributes[key] else { return defaultValue }
        guard a.type == .string || (a.type == .undefined && a.hasS) else { throw invalid("attribute '\(key)' must be a string") }
        return String(decoding: a.s, as: UTF8.self)
    }

    /// A string-list attribute, or `nil` when absent.
    func strings(_ key: String) throws(ONNXError) -> [String]? {
        guard let a = attributes[key] else { return nil }
        return a.strings.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The constant integer values of input `i` (shapes, axes), or `nil` when the input is absent or not constant.
    func constantInts(_ i: Int) throws(ONNXError) -> [Int]? {
        guard i < constants.count, let t = constants[i] else { return nil }
        guard t.dtype.isInteger else { throw invalid("input \(i) must be an integer tensor, got \(t.dtype)") }
        return t.toIntArray()
    }

    /// Whether input `i` is given.
    func has(_ i: Int) -> Bool { i < present.count && present[i] }

    /// Requires at least `n` inputs.
    func requireInputs(_ n: Int) throws(ONNXError) {
        guard present.count >= n, present.prefix(n).allSatisfy({ $0 }) else {
            throw invalid("expects at least \(n) inputs, got \(present.filter { $0 }.count)")
        }
    }
}

/// A node compiled at load time: given the values of its inputs (`nil` for omitted optional ones), its outputs.
typealias ONNXKernel = ([Tensor?]) throws -> [Tensor]

/// Reads a runtime integer tensor (shape, axes, indices) into Swift integers, or throws naming the node.
func runtimeInts(_ t: Tensor?, _ ctx: ONNXNodeContext, what: String) throws(ONNXError) -> [Int] {
    guard let t else { throw ctx.invalid("missing input '\(what)'") }
    guard t.dtype.isInteger else { throw ctx.invalid("'\(what)' must be an integer tensor, got \(t.dtype)") }
    guard t.rank <= 1 else { throw ctx.invalid("'\(what)' must be a 1-D tensor, got shape \(t.shape)") }
    return t.toIntArray()
}

/// The tensor of input `i`, or a clear error when it is missing.
@inline(__always)
func input(_ inputs: [Tensor?], _ i: Int, _ ctx: ONNXNodeContext) throws(ONNXError) -> Tensor {
    guard i < inputs.count, let t = inputs[i] else { throw ctx.invalid("missing input \(i)") }
    return t
}

/// Normalizes an axis against a rank, or throws naming the node.
func normalizeAxis(_ axis: Int, rank: Int, _ ctx: ONNXNodeContext) throws(ONNXError) -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else { throw ctx.invalid("axis \(axis) is out of range for rank \(rank)") }
    return a
}
