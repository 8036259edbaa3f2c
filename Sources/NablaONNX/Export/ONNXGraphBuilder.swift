import Foundation
import Nabla

/// A value of the ONNX graph being written: its name, element type and (symbolic) shape.
struct ONNXValue {
    /// The value's name in the graph.
    var name: String
    /// Element type.
    var dtype: DType
    /// Shape; dims may grow with the batch.
    var shape: [SymInt]
}

/// Accumulates the nodes, initializers and constants of an exported ONNX graph, with unique names.
final class ONNXGraphBuilder {
    /// The default-domain opset the nodes are written for.
    let opset: Int
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var used = Set<String>()
    private var counters: [String: Int] = [:]
    private var constantCache: [String: String] = [:]
    /// The `int64[1]` batch size, made once from the first input's shape when a shape needs it.
    private var batchName: String?
    /// The first graph input (whose dim 0 is the batch).
    var batchSource: String?

    init(opset: Int) { self.opset = opset }

    /// A fresh name starting with `base` (`base`, `base_1`, ...).
    func uniqueName(_ base: String) -> String {
        var name = base
        while used.contains(name) {
            let n = (counters[base] ?? 0) + 1
            counters[base] = n
            name = "\(base)_\(n)"
        }
        used.insert(name)
        return name
    }

    /// Reserves `name` exactly (graph inputs, outputs and initializers named by the state dict).
    func reserve(_ name: String) -> String { uniqueName(name) }

    /// Adds a node; returns its output names (fresh, from `outputs`' bases).
    @discardableResult
    func node(_ opType: String, _ inputs: [String], outputs: [String]? = nil, count: Int = 1,
              attributes: [Onnx_AttributeProto] = []) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = opType
        n.name = uniqueName(opType + "_node")
        n.input = inputs
        n.output = outputs ?? (0..<count).map { _ in uniqueName(opType.lowercased()) }
        n.attribute = attributes
        nodes.append(n)
        return n.output
    }

    /// Adds a node with one output; returns its name.
    func op(_ opType: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
        node(opType, inputs, attributes: attributes)[0]
    }

    /// Adds an initializer of raw little-endian bytes.
    func addInitializer(name: String, dtype: DType, shape: [Int], bytes: Data) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = Int32(Self.elementType(dtype))
        t.dims = shape.map { Int64($0) }
        t.rawData = bytes
        initializers.append(t)
    }

    /// A constant int64 tensor (cached by value).
    func int64s(_ values: [Int], shape: [Int]? = nil) -> String {
        let s = shape ?? [values.count]
        let key = "i64\(s):\(values)"
        if let n = constantCache[key] { return n }
        let name = uniqueName("const_i64")
        var data = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) } }
        addInitializer(name: name, dtype: .int64, shape: s, bytes: data)
        constantCache[key] = name
        return name
    }

    /// A constant scalar (or `shape`d filled) tensor of `dtype` holding `value` (cached).
    func scalar(_ value: Double, dtype: DType, shape: [Int] = []) -> String {
        let key = "\(dtype)\(shape):\(value.bitPattern)"
        if let n = constantCache[key] { return n }
        let name = uniqueName("const_\(dtype)")
        let count = shape.reduce(1, *)
        addInitializer(name: name, dtype: dtype, shape: shape, bytes: Self.bytes(repeating: value, count: count, dtype: dtype))
        constantCache[key] = name
        return name
    }

    /// `count` copies of `value` as little-endian bytes of `dtype`.
    static func bytes(repeating value: Double, count: Int, dtype: DType) -> Data {
        var data = Data()
        func put<T>(_ v: T) { withUnsafeBytes(of: v) { b in for _ in 0..<count { data.append(contentsOf: b) } } }
        switch dtype {
        case .float32: put(Float(value))
        case .float64: put(value)
        case .int32: put(Int32(value))
        case .int64: put(Int64(value))
        case .bool: put(UInt8(value != 0 ? 1 : 0))
        }
        return data
    }

    /// The batch size as an `int64[1]` value (`Shape(input)[0:1]`), made once.
    func batchSize() throws -> String {
        if let b = batchName { return b }
        guard let src = batchSource else { throw ONNXError.exportFailed(reason: "a shape depends on the batch but the graph has no input") }
        let shape = op("Shape", [src])
        let b = op("Slice", [shape, int64s([0]), int64s([1])])
        batchName = b
        return b
    }

    /// A 1-D int64 value holding `dims` (for Reshape, Expand, Slice, ConstantOfShape): a constant when no dim depends
    /// on the batch (or, with `minusOne`, when exactly one does: Reshape's -1), else computed from the batch size.
    func shapeTensor(_ dims: [SymInt], minusOne: Bool = false) throws -> String {
        let varying = dims.filter { $0.fixed == nil }.count
        if varying == 0 { return int64s(dims.map { $0.constant }) }
        if minusOne && varying == 1 { return int64s(dims.map { $0.fixed ?? -1 }) }
        var parts: [String] = []
        var run: [Int] = []
        for d in dims {
            if let f = d.fixed { run.append(f); continue }
            if !run.isEmpty { parts.append(int64s(run)); run = [] }
            var v = try batchSize()
            if d.perBatch != 1 { v = op("Mul", [v, int64s([d.perBatch])]) }
            if d.constant != 0 { v = op("Add", [v, int64s([d.constant])]) }
            parts.append(v)
        }
        if !run.isEmpty { parts.append(int64s(run)) }
        return parts.count == 1 ? parts[0] : op("Concat", parts, [Self.attr("axis", 0)])
    }

    // MARK: Attributes

    static func attr(_ name: String, _ i: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(i); return a
    }
    static func attr(_ name: String, _ f: Double) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = Float(f); return a
    }
    static func attr(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints.map { Int64($0) }; return a
    }
    static func attr(_ name: String, _ s: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(s.utf8); return a
    }
    static func attr(_ name: String, tensor: Onnx_TensorProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .tensor; a.t = tensor; return a
    }

    /// ONNX's `TensorProto.DataType` number of a dtype.
    static func elementType(_ dtype: DType) -> Int {
        switch dtype {
        case .float32: return 1
        case .int32: return 6
        case .int64: return 7
        case .bool: return 9
        case .float64: return 11
        }
    }

    /// A `ValueInfoProto` for a graph input or output.
    static func valueInfo(_ name: String, dtype: DType, shape: [SymInt]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = Int32(elementType(dtype))
        var s = Onnx_TensorShapeProto()
        s.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let f = d.fixed { dim.dimValue = Int64(f) } else if d.isBatch { dim.dimParam = "batch" } else { dim.dimParam = "\(d)" }
            return dim
        }
        t.shape = s
        var ty = Onnx_TypeProto()
        ty.tensorType = t
        v.type = ty
        return v
    }
}
