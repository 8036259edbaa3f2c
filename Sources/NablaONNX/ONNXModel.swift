import Foundation
import Nabla
import SwiftProtobuf

/// A model read from an ONNX file, runnable with Nabla's tensor ops (`onnxruntime.InferenceSession`'s role).
///
/// Loading checks the file (protobuf, opset 13-20, every node's operator and attributes), decodes the initializers
/// (external-data files included), folds what does not depend on the inputs, and prepares constant weights, so
/// `run` executes only the input-dependent nodes. The ops are Nabla's own, so outputs are differentiable with respect
/// to the inputs when grad mode is on (wrap calls in `noGrad { }` for inference).
/// ```swift
/// let m = try ONNXModel(path: "cnn.onnx")
/// print(m.inputs, m.outputs)
/// let y = try noGrad { try m(x) }                 // first output, for a one-input model
/// let all = try m.run(["input": x])               // every output by name
/// let weights = m.stateDict()                     // the initializers
/// ```
public final class ONNXModel: Stateful, @unchecked Sendable {
    /// The opsets of the default domain this importer reads.
    public static let supportedOpsets: ClosedRange<Int> = 13...20

    /// The graph's inputs that are not initializers (what `run` needs), in the file's order.
    public let inputs: [ONNXValueInfo]
    /// The graph's outputs, in the file's order.
    public let outputs: [ONNXValueInfo]
    /// The default-domain opset the model imports.
    public let opset: Int
    /// The producer recorded in the file (`"pytorch 2.15.0"`).
    public let producer: String
    /// How many nodes the graph has.
    public let nodeCount: Int
    /// How many nodes were folded into constants at load.
    public var foldedNodeCount: Int { plan.foldedCount }
    /// The op types of the steps `run` executes, in order, after folding and fusion (`"Conv+Relu+MaxPool"` for a
    /// convolution with its activation and pool fused): what the model costs per call.
    public var executedOpTypes: [String] { plan.steps.map(\.opType) }

    /// The device the model's constants live on and its runs allocate on: the default device when it was loaded
    /// (`Device.current`, the CPU unless `withDefaultDevice` says otherwise); `to(_:)` moves it.
    public private(set) var device: Device

    private let graph: Onnx_GraphProto
    private var initializers: StateDict
    private var plan: ONNXPlan
    private var decoder: ONNXTensorDecoder
    private let path: String

    /// Reads and compiles the ONNX model at `path`; external-data files are looked up beside it.
    public convenience init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ONNXError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        try self.init(data: data, externalDataDirectory: (path as NSString).deletingLastPathComponent.isEmpty ? "." :
                      (path as NSString).deletingLastPathComponent, name: path)
    }

    /// Compiles an ONNX model from its bytes; `externalDataDirectory` is where external-data files are read from
    /// (`nil`: a model with external data is an error), `name` names the model in messages.
    public init(data: Data, externalDataDirectory: String? = nil, name: String = "<ONNX bytes>") throws {
        path = name
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw ONNXError.malformed(path: name, reason: "the protobuf cannot be decoded (\(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty || !model.graph.output.isEmpty else {
            throw ONNXError.malformed(path: name, reason: "it has no graph")
        }
        guard let op = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ONNXError.malformed(path: name, reason: "it imports no opset of the default domain")
        }
        guard let v = Int(exactly: op.version), Self.supportedOpsets.contains(v) else {
            throw ONNXError.unsupportedOpset(path: name, opset: Int(clamping: op.version), supported: Self.supportedOpsets)
        }
        opset = v
        producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        graph = model.graph
        nodeCount = graph.node.count
        decoder = ONNXTensorDecoder(externalDirectory: externalDataDirectory)
        var inits = StateDict()
        for (i, t) in graph.initializer.enumerated() {
            let tensorName = t.name.isEmpty ? "initializer_\(i)" : t.name
            do throws(ONNXError) { inits[tensorName] = try decoder.tensor(t, name: tensorName) } catch { throw Self.located(error, name) }
        }
        if !graph.sparseInitializer.isEmpty {
            throw ONNXError.malformed(path: name, reason: "sparse initializers are not supported")
        }
        initializers = inits
        let initNames = Set(inits.keys)
        inputs = graph.input.filter { !initNames.contains($0.name) }.map(Self.valueInfo)
        outputs = graph.output.map(Self.valueInfo)
        for i in inputs where i.dtype == nil {
            throw ONNXError.malformed(path: name, reason: "input '\(i.name)' has element type \(i.onnxType), which Nabla does not support")
        }
        device = Device.current
        do throws(ONNXError) {
            plan = try ONNXPlan.build(graph: graph, initializers: Dictionary(uniqueKeysWithValues: inits.map { ($0.0, $0.1) }),
                                      inputNames: inputs.map(\.name), opset: opset, decoder: &decoder)
        } catch { throw Self.located(error, name) }
    }

    /// Moves the model to `device`: its initializers are copied there and the graph is compiled again, so folded
    /// constants and prepared weights live there too, and runs allocate there. Inputs must be on that device.
    /// ```swift
    /// try m.to(.cuda(0))
    /// let y = try m(x.cuda())
    /// ```
    public func to(_ device: Device) throws {
        guard device != self.device else { return }
        var moved = StateDict()
        for (k, v) in initializers { moved[k] = v.to(device) }
        plan = try compile(moved, on: device)
        initializers = moved
        self.device = device
    }

    /// Compiles the graph with `initializers` on `device`.
    private func compile(_ initializers: StateDict, on device: Device) throws -> ONNXPlan {
        var decoder = self.decoder
        let graph = self.graph, names = inputs.map(\.name), opset = self.opset, path = self.path
        do {
            return try withDefaultDevice(device) {
                try ONNXPlan.build(graph: graph, initializers: Dictionary(uniqueKeysWithValues: initializers.map { ($0.0, $0.1) }),
                                   inputNames: names, opset: opset, decoder: &decoder)
            }
        } catch let error as ONNXError { throw Self.located(error, path) }
    }

    /// Puts the model's file name into errors that come without one.
    private static func located(_ error: ONNXError, _ path: String) -> ONNXError {
        if case .malformed(let p, let r) = error, p.isEmpty { return .malformed(path: path, reason: r) }
        return error
    }

    /// The signature entry of a graph input or output.
    private static func valueInfo(_ v: Onnx_ValueInfoProto) -> ONNXValueInfo {
        guard case .tensorType(let t)? = v.type.value else {
            return ONNXValueInfo(name: v.name, dtype: nil, onnxType: "non-tensor", shape: nil)
        }
        var shape: [Int?]?, names: [String] = []
        if t.hasShape {
            shape = t.shape.dim.map { d -> Int? in
                if case .dimValue(let n)? = d.value, n >= 0, let i = Int(exactly: n) { return i }
                return nil
            }
            names = t.shape.dim.map { d in
                if case .dimParam(let p)? = d.value { return p }
                return ""
            }
        }
        return ONNXValueInfo(name: v.name, dtype: ONNXTensorDecoder.dtype(t.elemType),
                             onnxType: ONNXTensorDecoder.typeName(t.elemType), shape: shape, dimensionNames: names)
    }

    /// Runs the model on named inputs and returns every output by name.
    ///
    /// Each input must have the declared dtype and rank, and the declared size in every fixed dimension.
    /// - Throws: `ONNXError.badInput` for a missing, unknown or mismatched input; `ONNXError.invalidNode` when a
    ///   node cannot run on the values it gets (naming the node).
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        for k in feeds.keys where !inputs.contains(where: { $0.name == k }) {
            throw ONNXError.badInput(name: k, reason: "the model has no such input (its inputs: \(inputs.map(\.name)))")
        }
        let values = try inputs.map { info throws -> Tensor in
            guard let t = feeds[info.name] else { throw ONNXError.badInput(name: info.name, reason: "missing") }
            return t
        }
        let outs = try run(values)
        var result: [String: Tensor] = [:]
        for (info, t) in zip(outputs, outs) { result[info.name] = t }
        return result
    }

    /// Runs the model on positional inputs (in `inputs` order) and returns the outputs in `outputs` order.
    public func run(_ values: [Tensor]) throws -> [Tensor] {
        guard values.count == inputs.count else {
            throw ONNXError.badInput(name: inputs.map(\.name).joined(separator: ", "),
                                     reason: "the model takes \(inputs.count) inputs, got \(values.count)")
        }
        for (info, t) in zip(inputs, values) {
            try Self.check(t, against: info)
            guard t.device == device else {
                throw ONNXError.badInput(name: info.name, reason: "is on \(t.device), the model on \(device) (move one with .to(_:))")
            }
        }
        let plan = self.plan
        return try withDefaultDevice(device) { try plan.run(values) }
    }

    /// The first output for a one-input model (`session.run(None, {name: x})[0]`).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard inputs.count == 1 else {
            throw ONNXError.badInput(name: inputs.map(\.name).joined(separator: ", "),
                                     reason: "the model takes \(inputs.count) inputs: call run([name: tensor])")
        }
        return try run([x])[0]
    }

    /// Checks a value against the signature.
    private static func check(_ t: Tensor, against info: ONNXValueInfo) throws {
        if let d = info.dtype, d != t.dtype {
            throw ONNXError.badInput(name: info.name, reason: "expected dtype \(d) (ONNX \(info.onnxType)), got \(t.dtype)")
        }
        guard let shape = info.shape else { return }
        guard shape.count == t.rank else {
            throw ONNXError.badInput(name: info.name, reason: "expected shape \(info), got \(t.shape)")
        }
        for (i, d) in shape.enumerated() {
            if let d, d != t.shape[i] { throw ONNXError.badInput(name: info.name, reason: "expected \(info), got shape \(t.shape)") }
        }
    }

    /// The initializers (weights, running statistics, constant shapes) by name, in the file's order.
    public func stateDict() -> StateDict { initializers }

    /// Replaces initializers (same names, shapes and dtypes) and recompiles the model with them.
    ///
    /// With `strict`, every initializer must be given and no other key.
    public func loadStateDict(_ state: StateDict, strict: Bool) throws {
        var next = initializers
        for (k, v) in state {
            guard let old = initializers[k] else {
                if strict { throw ONNXError.badInput(name: k, reason: "the model has no initializer of that name") }
                continue
            }
            guard old.shape == v.shape, old.dtype == v.dtype else {
                throw ONNXError.badInput(name: k, reason: "expected \(old.dtype) \(old.shape), got \(v.dtype) \(v.shape)")
            }
            next[k] = v.detach()
        }
        if strict, let missing = initializers.keys.first(where: { state[$0] == nil }) {
            throw ONNXError.badInput(name: missing, reason: "missing from the state dict")
        }
        for k in next.keys { next[k] = next[k]?.to(device) }
        plan = try compile(next, on: device)
        initializers = next
    }
}
