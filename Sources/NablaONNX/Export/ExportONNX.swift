import Foundation
import Nabla
import NablaKeras
import NablaNN
import SwiftProtobuf

/// Exports a traced function of tensors to an ONNX file (`torch.onnx.export`): the core the `Module`, Keras
/// `Model` and `CompiledFunction` overloads call.
///
/// The function is traced without grad (unoptimised: the ops the code calls, before any compiler pass) and each
/// traced backend op becomes ONNX nodes: convolutions `Conv`, products `MatMul`, layer norms `LayerNormalization`,
/// LSTMs `LSTM`, attention `MatMul`/`Softmax`/`MatMul`, element-wise ops their ONNX operators, and view geometry
/// `Reshape`/`Slice`/`Transpose`/`Expand`. Captured tensors become initializers named by `names` (a state dict).
///
/// With `dynamicBatch`, dim 0 of every input is `batch` in the file: the function is traced at batch sizes 2 and 3
/// (rows of the example inputs), and every size that differs between the two traces is written as a function of
/// the input's batch size, so the file runs at any batch size. The file is written atomically; with `verify` it is
/// then read back with `ONNXModel` and run on `exampleInputs`, and must give the function's outputs.
/// - Throws: `ONNXError.exportUnsupported` naming the op and the Swift line it was traced at for an op with no ONNX
///   form; `ONNXError.exportFailed` when the trace breaks, depends on the batch in a way ONNX cannot express, or
///   the written file does not reproduce the outputs; file errors.
public func exportONNX(exampleInputs: [Tensor], to path: String, opset: Int = 17, dynamicBatch: Bool = true,
                       inputNames: [String]? = nil, outputNames: [String]? = nil, verify: Bool = true,
                       names: [(String, Tensor)] = [], modelName: String = "nabla", _ body: @escaping ([Tensor]) -> [Tensor]) throws {
    let data = try onnxModelData(exampleInputs: exampleInputs, opset: opset, dynamicBatch: dynamicBatch, inputNames: inputNames,
                                 outputNames: outputNames, verify: verify, names: names, modelName: modelName, body)
    try writeAtomically(data, to: path)
}

/// Writes `data` to `path` atomically, creating its folder.
private func writeAtomically(_ data: Data, to path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    try data.withUnsafeBytes { bytes in try AtomicFile.write(to: path) { write in try write(bytes) } }
}

/// The serialized ONNX model `exportONNX(exampleInputs:to:...)` writes, in memory.
public func onnxModelData(exampleInputs: [Tensor], opset: Int = 17, dynamicBatch: Bool = true, inputNames: [String]? = nil,
                          outputNames: [String]? = nil, verify: Bool = true, names: [(String, Tensor)] = [],
                          modelName: String = "nabla", _ body: @escaping ([Tensor]) -> [Tensor]) throws -> Data {
    try exportedModel(exampleInputs: exampleInputs, opset: opset, dynamicBatch: dynamicBatch, inputNames: inputNames,
                      outputNames: outputNames, verify: verify, names: names, modelName: modelName,
                      trace: { try CompiledGraph.traceUnoptimized($0, body) }, run: body)
}

/// The exporter's core: traces with `trace` (once, or at two batch sizes), lowers, serializes and checks with `run`.
private func exportedModel(exampleInputs: [Tensor], opset: Int, dynamicBatch: Bool, inputNames: [String]?, outputNames: [String]?,
                           verify: Bool, names: [(String, Tensor)], modelName: String,
                           trace: ([Tensor]) throws -> CompiledGraph, run: ([Tensor]) -> [Tensor]) throws -> Data {
    guard (17...20).contains(opset) else {
        throw ONNXError.exportFailed(reason: "opset \(opset) is not supported: the exporter writes opsets 17 to 20 (LayerNormalization needs 17)")
    }
    guard !exampleInputs.isEmpty else { throw ONNXError.exportFailed(reason: "no example inputs") }
    let examples = exampleInputs.map { $0.detached().contiguous() }
    if dynamicBatch, let bad = examples.first(where: { $0.rank == 0 || $0.shape[0] == 0 }) {
        throw ONNXError.exportFailed(reason: "dynamicBatch needs inputs with a batch dim 0 of size ≥ 1, got shape \(bad.shape)")
    }
    func traced(_ xs: [Tensor]) throws -> CompiledGraph {
        do { return try noGrad { try trace(xs) } } catch let br as GraphBreak {
            throw ONNXError.exportFailed(reason: "the model cannot be traced: \(br)")
        }
    }
    /// The example inputs with `b` rows (dim 0), repeating theirs in reverse order.
    func rows(_ b: Int) -> [Tensor] {
        examples.map { x in
            let n = x.shape[0]
            let idx = Tensor(shape: [b], data: (0..<b).map { Int64((n - 1 - $0 % n + n) % n) })
            return indexSelect(x, dim: 0, index: idx).contiguous()
        }
    }
    let batches = dynamicBatch ? (2, 3) : (examples[0].rank > 0 ? examples[0].shape[0] : 1, examples[0].rank > 0 ? examples[0].shape[0] : 1)
    let g1 = try traced(dynamicBatch ? rows(batches.0) : examples)
    let g2 = dynamicBatch ? try traced(rows(batches.1)) : g1

    var known: [ObjectIdentifier: (name: String, shape: [Int]?)] = [:]
    for (name, t) in names where known[ObjectIdentifier(t.storage)] == nil {
        let whole = t.offset == 0 && t.isContiguous && t.count * t.dtype.itemSize == t.storage.byteCount
        known[ObjectIdentifier(t.storage)] = (name, whole ? t.shape : nil)
    }
    let exporter = try ONNXExporter(g1, g2, batches: batches, opset: opset, names: known)
    let inNames = inputNames ?? (examples.count == 1 ? ["input"] : examples.indices.map { "input_\($0)" })
    let outNames = outputNames ?? (g1.outputs.count == 1 ? ["output"] : g1.outputs.indices.map { "output_\($0)" })
    guard inNames.count == examples.count else {
        throw ONNXError.exportFailed(reason: "\(inNames.count) input names for \(examples.count) inputs")
    }
    guard outNames.count == g1.outputs.count else {
        throw ONNXError.exportFailed(reason: "\(outNames.count) output names for \(g1.outputs.count) outputs")
    }
    var model = Onnx_ModelProto()
    model.irVersion = 8
    model.producerName = "Nabla"
    model.producerVersion = "1"
    var set = Onnx_OperatorSetIdProto()
    set.domain = ""
    set.version = Int64(opset)
    model.opsetImport = [set]
    model.graph = try exporter.makeGraph(name: modelName, inputNames: inNames, outputNames: outNames)
    let data = try model.serializedData()
    if verify { try verifyExport(data, examples: examples, run) }
    return data
}

/// Reads the exported bytes back with `ONNXModel`, runs them on the examples and compares with the function.
private func verifyExport(_ data: Data, examples: [Tensor], _ body: ([Tensor]) -> [Tensor]) throws {
    let expected = noGrad { body(examples) }
    let model: ONNXModel
    do { model = try ONNXModel(data: data, name: "<exported model>") } catch ONNXError.unsupportedOperator {
        return   // an operator Nabla's importer does not read (onnxruntime does): nothing to compare with here
    }
    let got = try noGrad { try model.run(examples) }
    for (k, (e, g)) in zip(expected, got).enumerated() {
        guard e.shape == g.shape else {
            throw ONNXError.exportFailed(reason: "the exported file gives output \(k) of shape \(g.shape), the model \(e.shape)")
        }
        guard e.dtype.isFloatingPoint else {
            guard e.to(.float64).toArray(Double.self) == g.to(.float64).toArray(Double.self) else {
                throw ONNXError.exportFailed(reason: "the exported file gives other values than the model for output \(k)")
            }
            continue
        }
        let diff = noGrad { (e.to(.float64) - g.to(.float64)).abs().max().item() }
        let scale = max(1, noGrad { e.to(.float64).abs().max().item() })
        guard diff <= 1e-3 * scale else {
            throw ONNXError.exportFailed(reason: "the exported file's output \(k) differs from the model's by \(diff) (the trace may depend on the input's values)")
        }
    }
}

/// Exports a module's forward pass to ONNX (`torch.onnx.export(model, (x,), "model.onnx", dynamic_axes=...)`).
///
/// The module runs in eval mode (Dropout is the identity, BatchNorm uses its running statistics) without grad;
/// its training flags are restored afterwards. Initializers carry the state-dict names (`fc1.weight`).
/// ```swift
/// try exportONNX(model, exampleInputs: [x], to: "model.onnx")   // opset 17, dynamic batch
/// ```
/// See `exportONNX(exampleInputs:to:...)` for the options and errors.
public func exportONNX(_ model: NablaNN.Module, exampleInputs: [Tensor], to path: String, opset: Int = 17, dynamicBatch: Bool = true,
                       inputNames: [String]? = nil, outputNames: [String]? = nil, verify: Bool = true) throws {
    guard exampleInputs.count == 1 else {
        throw ONNXError.exportFailed(reason: "a Module's forward takes one input, got \(exampleInputs.count) example inputs")
    }
    try inEvalMode(model) {
        try exportONNX(exampleInputs: exampleInputs, to: path, opset: opset, dynamicBatch: dynamicBatch, inputNames: inputNames,
                       outputNames: outputNames, verify: verify, names: model.namedParameters() + model.namedBuffers(),
                       modelName: model.typeName) { [model] xs in [model.callUncompiled(xs[0])] }
    }
}

/// Exports a Keras model (one or several inputs) to ONNX, in inference mode; initializers carry the weights'
/// names (`dense.kernel`). See `exportONNX(exampleInputs:to:...)` for the options and errors.
public func exportONNX(_ model: NablaKeras.Model, exampleInputs: [Tensor], to path: String, opset: Int = 17, dynamicBatch: Bool = true,
                       inputNames: [String]? = nil, outputNames: [String]? = nil, verify: Bool = true) throws {
    try inEvalMode(model) {
        try exportONNX(exampleInputs: exampleInputs, to: path, opset: opset, dynamicBatch: dynamicBatch, inputNames: inputNames,
                       outputNames: outputNames, verify: verify, names: model.namedWeights() + model.namedBuffers(),
                       modelName: model.name) { [model] xs in model.invoke(xs) }
    }
}

/// Exports a compiled function's body (traced afresh, without the compiler's passes) to ONNX. Tensors it captures
/// are initializers named `captured`, `captured_1`, ... unless `names` names them (pass `model.namedParameters()`).
/// See `exportONNX(exampleInputs:to:...)` for the options and errors.
public func exportONNX(_ function: CompiledFunction, exampleInputs: [Tensor], to path: String, opset: Int = 17,
                       dynamicBatch: Bool = true, inputNames: [String]? = nil, outputNames: [String]? = nil,
                       verify: Bool = true, names: [(String, Tensor)] = []) throws {
    let data = try exportedModel(exampleInputs: exampleInputs, opset: opset, dynamicBatch: dynamicBatch, inputNames: inputNames,
                                 outputNames: outputNames, verify: verify, names: names, modelName: function.name,
                                 trace: { try function.traceUnoptimized($0) }, run: { function.call($0) })
    try writeAtomically(data, to: path)
}

/// Runs `body` with `model` and its submodules in eval mode, restoring each one's training flag afterwards.
private func inEvalMode<R>(_ model: NablaNN.Module, _ body: () throws -> R) rethrows -> R {
    let modules = model.modules()
    let flags = modules.map(\.training)
    _ = model.eval()
    defer { for (m, f) in zip(modules, flags) { _ = m.train(f) } }
    return try body()
}
