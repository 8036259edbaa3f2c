import Foundation
import NablaKeras
import NablaONNX

/// A model file `nabla predict --model` runs without a config: an ONNX file or a Keras model written by `Model.save`.
public enum PredictableModel {
    /// An ONNX model (`.onnx`).
    case onnx(ONNXModel)
    /// A NablaKeras model rebuilt by `loadModel` (a `.safetensors` file holding its config).
    case keras(Model)

    /// Opens `path`: ONNX when it ends in `.onnx` (or is not a safetensors file), else a saved Keras model.
    /// - Throws: the reader's error (`ONNXError`, `KerasSavingError`, ...) naming the file.
    public init(path: String) throws {
        if path.lowercased().hasSuffix(".onnx") {
            self = .onnx(try ONNXModel(path: path))
        } else if path.lowercased().hasSuffix(".safetensors") {
            self = .keras(try loadModel(path))
        } else {
            throw TrainError("predict: --model \(path): expected an .onnx file or a .safetensors file written by Model.save")
        }
    }

    /// The input names in order (Keras models: `input_1`, ... by position).
    public var inputNames: [String] {
        switch self {
        case .onnx(let m): return m.inputs.map(\.name)
        case .keras(let m): return m.inputs.map(\.name)
        }
    }

    /// Runs the model on `feeds` (`nil` name: the model's only input, or the first one without a named feed),
    /// casting each input to the model's input dtype, and returns the first output as float32.
    public func firstOutput(_ feeds: [(name: String?, value: Tensor)]) throws -> Tensor {
        let names = inputNames
        var byName: [String: Tensor] = [:]
        for f in feeds where f.name != nil {
            guard let n = f.name, names.contains(n) else {
                throw TrainError("predict: the model has no input '\(f.name ?? "")' (its inputs: \(names.joined(separator: ", ")))")
            }
            byName[n] = f.value
        }
        for f in feeds where f.name == nil {
            guard let free = names.first(where: { byName[$0] == nil }) else {
                throw TrainError("predict: more inputs given than the model takes (\(names.joined(separator: ", ")))")
            }
            byName[free] = f.value
        }
        if let missing = names.first(where: { byName[$0] == nil }) {
            throw TrainError("predict: no value for the model's input '\(missing)': pass --input \(missing)=FILE.npy")
        }
        switch self {
        case .onnx(let m):
            var cast: [String: Tensor] = [:]
            for info in m.inputs {
                guard let v = byName[info.name] else { continue }
                cast[info.name] = info.dtype.map { v.dtype == $0 ? v : v.to($0) } ?? v
            }
            let out = try noGrad { try m.run(cast) }
            guard let first = m.outputs.first, let y = out[first.name] else { throw TrainError("predict: the model has no output") }
            return y.to(.float32)
        case .keras(let m):
            var xs: [Tensor] = []
            for (name, sym) in zip(names, m.inputs) {
                guard let v = byName[name] else { continue }
                guard v.rank == sym.rank, zip(v.shape, sym.shape).allSatisfy({ $1 == -1 || $0 == $1 }) else {
                    throw TrainError("predict: input '\(name)' has shape \(v.shape), the model expects \(sym.shape) (-1: any size)")
                }
                xs.append(v.dtype == sym.dtype ? v : v.to(sym.dtype))
            }
            return noGrad { m.predict(x: xs) }[0].to(.float32)
        }
    }
}

/// Splits a `--input` value `NAME=FILE.npy` into its name and path (`FILE.npy` alone has no name).
public func parsePredictInput(_ spec: String) -> (name: String?, path: String) {
    if let eq = spec.firstIndex(of: "="), !spec[..<eq].contains("/") {
        return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
    }
    return (nil, spec)
}
