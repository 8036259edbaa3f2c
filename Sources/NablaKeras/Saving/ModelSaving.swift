import Foundation
import NablaNN

// The saved architecture, Keras-like JSON:
// {"format": "nabla-keras-model", "version": 1, "model": {"class_name": "Functional", "name": "model_1",
//  "inputs": [{"name": "input_1", "shape": [-1, 784], "dtype": "float32"}],
//  "layers": [{"class_name": "Dense", "name": "dense_1", "config": {"units": 64, "activation": "relu", ...}}, ...],
//  "nodes": [{"layer": "dense_1", "inputs": [{"node": 0, "output": 0}]}, ...],   // node k reads inputs (0..<#inputs) or earlier nodes
//  "outputs": [{"node": 2, "output": 0}]}}
// A `Sequential` lists its layers in order (no nodes); a model used as a layer is saved inline under "model".

/// A saved attribute value: a JSON number, bool, string or list of integers.
struct SavedValue: Codable {
    let value: GraphAttribute
    init(_ v: GraphAttribute) { value = v }
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { value = .bool(b) }
        else if let i = try? c.decode(Int.self) { value = .int(i) }
        else if let d = try? c.decode(Double.self) { value = .double(d) }
        else if let s = try? c.decode(String.self) { value = .string(s) }
        else if let a = try? c.decode([Int].self) { value = .ints(a) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a number, bool, string or list of integers") }
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .ints(let v): try c.encode(v)
        }
    }
}

struct SavedRef: Codable { var node: Int; var output: Int }
struct SavedInput: Codable { var name: String; var shape: [Int]; var dtype: String }
struct SavedNode: Codable { var layer: String; var inputs: [SavedRef] }
struct SavedLayer: Codable {
    var className: String, name: String
    var config: [String: SavedValue]
    var model: SavedModel?
    enum CodingKeys: String, CodingKey { case className = "class_name", name, config, model }
}
struct SavedModel: Codable {
    var className: String, name: String
    var inputs: [SavedInput]
    var layers: [SavedLayer]
    var nodes: [SavedNode]
    var outputs: [SavedRef]
    enum CodingKeys: String, CodingKey { case className = "class_name", name, inputs, layers, nodes, outputs }
}
struct SavedDocument: Codable {
    var format: String, version: Int
    var model: SavedModel
}

enum ModelFormat {
    static let tag = "nabla-keras-model"
    static let metadataKey = "nabla.keras.model"
    static let dtypeNames: [DType: String] = [.bool: "bool", .int32: "int32", .int64: "int64", .float32: "float32", .float64: "float64"]

    static func savedModel(_ m: Model) throws(ModelSerializationError) -> SavedModel {
        guard let g = m.graph else {
            throw ModelSerializationError("model \(m.name) (\(m.className)) has no graph: subclassed or unbuilt models cannot be saved "
                + "whole; build it (give Input shapes) or save its weights with saveWeights")
        }
        let inputs = g.inputs.map { SavedInput(name: $0.node.name, shape: $0.shape, dtype: dtypeNames[$0.dtype]!) }
        if m is Sequential {
            let layers = try m.layers.map { l throws(ModelSerializationError) in try savedLayer(l) }
            return SavedModel(className: "Sequential", name: m.name, inputs: inputs, layers: layers, nodes: [], outputs: [])
        }
        var index: [ObjectIdentifier: Int] = [:]
        for (i, x) in g.inputs.enumerated() { index[ObjectIdentifier(x.node)] = i }
        var layers: [SavedLayer] = [], nodes: [SavedNode] = []
        var seen = Set<ObjectIdentifier>()
        func ref(_ t: SymbolicTensor) -> SavedRef { SavedRef(node: index[ObjectIdentifier(t.node)]!, output: t.index) }
        for n in g.nodes {
            guard let l = n.owner as? Layer else {
                throw ModelSerializationError("model \(m.name): graph node \(n.name) (\(n.op)) is a raw symbolic op, not a layer call; "
                    + "wrap it in a Layer subclass (registered with LayerRegistry) to save the model")
            }
            if seen.insert(ObjectIdentifier(l)).inserted { layers.append(try savedLayer(l)) }
            nodes.append(SavedNode(layer: l.name, inputs: n.inputs.map(ref)))
            index[ObjectIdentifier(n)] = g.inputs.count + nodes.count - 1
        }
        return SavedModel(className: "Functional", name: m.name, inputs: inputs, layers: layers, nodes: nodes, outputs: g.outputs.map(ref))
    }

    static func savedLayer(_ l: Layer) throws(ModelSerializationError) -> SavedLayer {
        if let sub = l as? Model { return SavedLayer(className: sub.className, name: sub.name, config: [:], model: try savedModel(sub)) }
        var config: [String: SavedValue] = [:]
        for (k, v) in try l.getConfig() { config[k] = SavedValue(v) }
        return SavedLayer(className: l.className, name: l.name, config: config, model: nil)
    }

    /// Rebuilds a saved model, weights bounded by `ReaderLimits`.
    static func build(_ s: SavedModel) throws -> Model {
        try ModelLoading.$active.withValue(true) { try buildUnchecked(s) }
    }

    private static func buildUnchecked(_ s: SavedModel) throws -> Model {
        var layers: [String: Layer] = [:]
        var ordered: [Layer] = []
        for spec in s.layers {
            guard layers[spec.name] == nil else { throw ModelSerializationError("model \(s.name): layer name \(spec.name) appears twice") }
            let l: Layer
            if let inner = spec.model { l = try buildUnchecked(inner) }
            else { l = try LayerRegistry.make(LayerConfig(className: spec.className, name: spec.name, values: spec.config.mapValues(\.value))) }
            guard l.className == spec.className || spec.model != nil else {
                throw ModelSerializationError("layer \(spec.name): the factory for \(spec.className) made a \(l.className)")
            }
            layers[spec.name] = l
            ordered.append(l)
        }
        let placeholders = try s.inputs.map { i throws(ModelSerializationError) -> SymbolicTensor in
            guard let dt = dtypeNames.first(where: { $0.value == i.dtype })?.key else {
                throw ModelSerializationError("model \(s.name): input \(i.name) has unknown dtype \"\(i.dtype)\"")
            }
            // [-1 (batch), sizes...]: every size positive or -1 (free), the known ones within ReaderLimits.
            guard i.shape.count >= 2, i.shape[0] == -1, i.shape.allSatisfy({ $0 > 0 || $0 == -1 }) else {
                throw ModelSerializationError("model \(s.name): input \(i.name) has shape \(i.shape); expected [-1, sizes...] with positive sizes or -1")
            }
            if let problem = ReaderLimits.current.shapeProblem(i.shape.map { max($0, 1) }) {
                throw ModelSerializationError("model \(s.name): input \(i.name): \(problem)")
            }
            return Graph.placeholder(shape: i.shape, dtype: dt, name: i.name)
        }
        do {
            switch s.className {
            case "Sequential":
                guard placeholders.count == 1 else { throw ModelSerializationError("Sequential \(s.name): expected 1 input, got \(placeholders.count)") }
                var y = placeholders
                for l in ordered { y = try l.call(symbolic: y) }   // shape errors throw here rather than trap in Sequential
                // The saved input first, so that a first layer's own input_shape (Embedding's input_length) cannot
                // build the graph for another shape than the one just checked.
                let model = Sequential(name: s.name)
                model.add(placeholders[0])
                for l in ordered { model.add(l) }
                return model
            case "Functional":
                var values: [[SymbolicTensor]] = placeholders.map { [$0] }
                func resolve(_ r: SavedRef, _ what: String) throws(ModelSerializationError) -> SymbolicTensor {
                    guard r.node >= 0, r.node < values.count, r.output >= 0, r.output < values[r.node].count else {
                        throw ModelSerializationError("model \(s.name): \(what) refers to node \(r.node) output \(r.output), which does not exist")
                    }
                    return values[r.node][r.output]
                }
                for (k, n) in s.nodes.enumerated() {
                    guard let l = layers[n.layer] else { throw ModelSerializationError("model \(s.name): node \(k) calls unknown layer \(n.layer)") }
                    let ins = try n.inputs.map { r throws(ModelSerializationError) in try resolve(r, "node \(k) (\(n.layer))") }
                    values.append(try l.call(symbolic: ins))
                }
                let outs = try s.outputs.map { r throws(ModelSerializationError) in try resolve(r, "an output") }
                _ = try Graph(inputs: placeholders, outputs: outs)
                return Model(inputs: placeholders, outputs: outs, name: s.name)
            default:
                throw ModelSerializationError("model \(s.name): unknown model class \"\(s.className)\" (expected Functional or Sequential)")
            }
        } catch let e as ShapeError {
            throw ModelSerializationError("model \(s.name): the saved architecture does not fit: \(e)")
        } catch let e as GraphError {
            throw ModelSerializationError("model \(s.name): the saved architecture is not a valid graph: \(e.message)")
        }
    }

    static func decode(_ json: String, source: String) throws -> SavedModel {
        let limits = ReaderLimits.current
        guard json.utf8.count <= limits.maxHeaderBytes else {
            throw ModelSerializationError("\(source): model JSON of \(json.utf8.count) bytes exceeds the limit of \(limits.maxHeaderBytes) (ReaderLimits.maxHeaderBytes)")
        }
        // Foundation's decoder recurses per nesting level: refuse deep documents before decoding.
        var depth = 0, inString = false, escaped = false
        for b in json.utf8 {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
            } else if b == UInt8(ascii: "\"") { inString = true }
            else if b == UInt8(ascii: "[") || b == UInt8(ascii: "{") {
                depth += 1
                guard depth <= limits.maxJSONDepth else {
                    throw ModelSerializationError("\(source): bad model JSON: nesting deeper than \(limits.maxJSONDepth) levels (ReaderLimits.maxJSONDepth)")
                }
            } else if b == UInt8(ascii: "]") || b == UInt8(ascii: "}") { depth -= 1 }
        }
        let doc: SavedDocument
        do { doc = try JSONDecoder().decode(SavedDocument.self, from: Data(json.utf8)) } catch {
            throw ModelSerializationError("\(source): bad model JSON: \(describe(error))")
        }
        guard doc.format == tag else { throw ModelSerializationError("\(source): format is \"\(doc.format)\", expected \"\(tag)\"") }
        guard doc.version == 1 else { throw ModelSerializationError("\(source): model format version \(doc.version) is not supported (expected 1)") }
        return doc.model
    }

    static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return (p.isEmpty ? "" : "at \(p.hasPrefix(".") ? String(p.dropFirst()) : p): ") + c.debugDescription
        }
        switch e {
        case .keyNotFound(let k, let c): return "missing key \"\(k.stringValue)\" " + path(c)
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return path(c)
        @unknown default: return "\(e)"
        }
    }
}

extension Model {
    /// The architecture as JSON (`model.to_json()`): layer class names and configs, and for functional
    /// models the graph connections; no weights. Throws for Lambda layers, raw symbolic ops and subclassed models.
    public func toJSON() throws -> String {
        let doc = SavedDocument(format: ModelFormat.tag, version: 1, model: try ModelFormat.savedModel(self))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(doc), as: UTF8.self)
    }

    /// Saves the whole model (`model.save`) to ONE safetensors file, written atomically: the weights,
    /// keyed `layer_name.weight_name`, and the architecture JSON (`toJSON()`) in the file's metadata
    /// under `nabla.keras.model`. `loadModel(path)` rebuilds it without the code that defined it.
    /// The compile configuration is not saved: compile the loaded model again to train it.
    /// ```swift
    /// try model.save("mnist.safetensors")
    /// let same = try loadModel("mnist.safetensors")
    /// ```
    /// - Throws: `ModelSerializationError` naming the layer that cannot be serialised (Lambda layers,
    ///   raw symbolic ops, subclassed models), or the file error.
    public func save(_ path: String) throws {
        let json = try toJSON()
        let named = namedWeights()
        try saveSafetensors(StateDict(named), to: path, metadata: [
            "format": ModelFormat.tag, ModelFormat.metadataKey: json,
            "nabla.keras.weight_order": named.map(\.0).joined(separator: ","),
        ])
    }
}

/// Rebuilds a model from its architecture JSON (`keras.models.model_from_json`), with fresh weights.
/// - Throws: `ModelSerializationError` for bad JSON, unknown layer types (see `LayerRegistry`), or an
///   architecture whose shapes do not fit.
public func modelFromJSON(_ json: String) throws -> Model {
    try ModelFormat.build(ModelFormat.decode(json, source: "modelFromJSON"))
}

/// Loads a model saved by `Model.save` (`keras.models.load_model`): rebuilds the layers from the
/// architecture through `LayerRegistry` and loads every weight. The model is not compiled.
/// - Throws: `ModelSerializationError` for a file without a saved architecture, bad JSON, unknown
///   layer types, or missing or mis-shaped weights; the file error when it cannot be read.
public func loadModel(_ path: String) throws -> Model {
    let (state, metadata) = try loadSafetensorsWithMetadata(from: path)
    guard let json = metadata[ModelFormat.metadataKey] else {
        throw ModelSerializationError("loadModel: \(path) holds no model architecture (no \(ModelFormat.metadataKey) metadata); "
            + "was it written by saveWeights? Load it into a built model with loadWeights")
    }
    // Every weight is replaced below (a missing one throws), so the layers are not drawn at random first.
    let spec = try ModelFormat.decode(json, source: "loadModel: \(path)")
    let model = try withoutInitialization { try ModelFormat.build(spec) }
    let named = model.namedWeights()
    for (k, w) in named {
        guard let v = state[k] else { throw ModelSerializationError("loadModel: \(path) lacks weight \(k) (shape \(w.shape))") }
        guard v.shape == w.shape else {
            throw ModelSerializationError("loadModel: weight \(k) has shape \(v.shape) in \(path), the rebuilt layer expects \(w.shape)")
        }
    }
    noGrad { for (k, w) in named { _ = w.copy_(state[k]!) } }
    return model
}
