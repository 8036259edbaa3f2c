import Foundation
import Nabla
import NablaKeras
import NablaNN
import NablaONNX

/// `nabla export`: a config's model with trained weights, written in `Model.save`'s format (one safetensors file,
/// the Keras architecture in its metadata) so that `loadModel` and `nabla serve` read it without the config, or as
/// an ONNX file (`OUT.onnx` or `--format onnx`).
public enum ModelExport {
    /// The file formats `nabla export` writes.
    public enum Format: String, Sendable {
        /// `Model.save`'s safetensors file with the Keras architecture (the default).
        case safetensors
        /// An ONNX model (opset 17, dynamic batch) written by `exportONNX`.
        case onnx
    }

    /// The format for `--out OUT [--format F]`: `F` when given, else ONNX for an `.onnx` OUT, else safetensors.
    /// - Throws: `TrainError` for an unknown format, or a format that contradicts OUT's extension.
    public static func format(of out: String, format: String? = nil) throws -> Format {
        let ext = (out as NSString).pathExtension.lowercased()
        guard let format else { return ext == "onnx" ? .onnx : .safetensors }
        guard let f = Format(rawValue: format.lowercased()) else {
            throw TrainError("unknown export format '\(format)'; expected safetensors or onnx")
        }
        if (ext == "onnx" && f != .onnx) || (ext == "safetensors" && f != .safetensors) {
            throw TrainError("--format \(format) contradicts the output file \(out)")
        }
        return f
    }

    /// Where the model file goes for `--out OUT`: `OUT/model.safetensors` (`OUT/model.onnx` for ONNX) when OUT is a
    /// folder or has no extension, OUT itself otherwise.
    /// - Throws: `TrainError` for an unknown or contradictory format (`format(of:format:)`).
    public static func outputPath(_ out: String, format: String? = nil) throws -> String {
        let f = try Self.format(of: out, format: format)
        let ext = (out as NSString).pathExtension.lowercased()
        let file = f == .onnx ? "/model.onnx" : "/model.safetensors"
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), isDir.boolValue { return out + file }
        return ext.isEmpty ? out + file : out
    }

    /// The Keras `Sequential` equivalent of a config's model, holding the same weights.
    ///
    /// Config layers map to Keras layers in PyTorch's channels-first layout: `linear` → `Dense` (kernel transposed),
    /// `conv2d` → `Conv2D(dataFormat: .channelsFirst)`, `max_pool2d`/`avg_pool2d` → `MaxPooling2D`/`AveragePooling2D`,
    /// `batch_norm1d`/`batch_norm2d` → `BatchNormalization(axis: 1)`, `dropout` → `Dropout`, `flatten` → `Flatten`,
    /// activations → `Activation`, `identity` is dropped.
    /// - Throws: `TrainError` naming the first layer Keras cannot express (`conv1d`, `layer_norm`, `leaky_relu`,
    ///   pooling with padding or `ceil_mode`, ...).
    public static func kerasModel(_ built: BuiltModel, name: String) throws -> NablaKeras.Model {
        let model = NablaKeras.Sequential(name: name)
        model.add(NablaKeras.Input(shape: built.inputShape, name: "input"))
        var copies: [(String, Tensor)] = []
        for (i, (childName, m)) in built.module.namedChildren().enumerated() {
            let kind = built.layers[i].kind
            let lname = "\(kind)_\(childName)"
            func unsupported(_ why: String) -> TrainError {
                TrainError("export: layer \(childName) (\(kind)) cannot be exported to a Keras model: \(why)")
            }
            switch m {
            case let l as Linear:
                model.add(NablaKeras.Dense(l.outFeatures, activation: .linear, useBias: l.bias != nil, name: lname))
                copies.append((lname + ".kernel", l.weight.t()))
                if let b = l.bias { copies.append((lname + ".bias", b)) }
            case let c as Conv2d:
                guard c.groups == 1 else { throw unsupported("groups \(c.groups) (Keras Conv2D has none)") }
                guard c.paddingMode == .zeros else { throw unsupported("padding mode \(c.paddingMode) (Keras pads with zeros)") }
                model.add(NablaKeras.Conv2D(c.outChannels, kernelSize: SpatialSize(c.kernelSize), strides: SpatialSize(c.stride), padding: c.padding,
                                 dilationRate: SpatialSize(c.dilation), activation: .linear, useBias: c.bias != nil,
                                 dataFormat: .channelsFirst, name: lname))
                copies.append((lname + ".kernel", c.weight))
                if let b = c.bias { copies.append((lname + ".bias", b)) }
            case let p as MaxPool2d:
                guard p.padding.values.allSatisfy({ $0 == 0 }), p.dilation.values.allSatisfy({ $0 == 1 }), !p.ceilMode else {
                    throw unsupported("padding, dilation or ceil_mode (Keras MaxPooling2D has none)")
                }
                model.add(NablaKeras.MaxPooling2D(poolSize: p.kernelSize, strides: p.stride, dataFormat: .channelsFirst, name: lname))
            case let p as AvgPool2d:
                guard p.padding.values.allSatisfy({ $0 == 0 }), !p.ceilMode, p.divisorOverride == nil else {
                    throw unsupported("padding, ceil_mode or divisor_override (Keras AveragePooling2D has none)")
                }
                model.add(NablaKeras.AveragePooling2D(poolSize: p.kernelSize, strides: p.stride, dataFormat: .channelsFirst, name: lname))
            case let b as BatchNormBase:
                guard let mean = b.runningMean, let variance = b.runningVar else { throw unsupported("no running statistics") }
                model.add(NablaKeras.BatchNormalization(axis: 1, momentum: 1 - (b.momentum ?? 0.1), epsilon: b.eps, center: b.affine, scale: b.affine, name: lname))
                if let w = b.weight { copies.append((lname + ".gamma", w)) }
                if let w = b.bias { copies.append((lname + ".beta", w)) }
                copies.append((lname + ".moving_mean", mean))
                copies.append((lname + ".moving_variance", variance))
            case let d as NablaNN.Dropout:
                model.add(NablaKeras.Dropout(d.p, name: lname))
            case let f as NablaNN.Flatten:
                guard f.startDim == 1, f.endDim == -1 else { throw unsupported("start_dim/end_dim other than 1/-1") }
                model.add(NablaKeras.Flatten(name: lname))
            case is NablaNN.ReLU: model.add(NablaKeras.Activation(.relu, name: lname))
            case is NablaNN.Sigmoid: model.add(NablaKeras.Activation(.sigmoid, name: lname))
            case is NablaNN.Tanh: model.add(NablaKeras.Activation(.tanh, name: lname))
            case is NablaNN.SiLU: model.add(NablaKeras.Activation(.swish, name: lname))
            case let e as NablaNN.ELU:
                guard e.alpha == 1 else { throw unsupported("alpha \(e.alpha) (Keras' elu activation has alpha 1)") }
                model.add(NablaKeras.Activation(.elu, name: lname))
            case let g as NablaNN.GELU:
                guard g.approximate == .none else { throw unsupported("approximate 'tanh' (Keras' gelu activation is exact)") }
                model.add(NablaKeras.Activation(.gelu, name: lname))
            case let s as NablaNN.Softplus:
                guard s.beta == 1 else { throw unsupported("beta \(s.beta) (Keras' softplus has beta 1)") }
                model.add(NablaKeras.Activation(.softplus, name: lname))
            case is NablaNN.Identity: continue
            default:
                throw unsupported("no Keras layer is mapped for \(type(of: m))")
            }
        }
        let weights = Dictionary(uniqueKeysWithValues: model.namedWeights())
        guard weights.count == copies.count else {
            throw TrainError("export: the Keras model has \(weights.count) weights, the config model \(copies.count)")
        }
        try noGrad {
            for (k, v) in copies {
                guard let w = weights[k], w.shape == v.shape else {
                    throw TrainError("export: weight \(k) of shape \(v.shape) has no Keras counterpart of the same shape")
                }
                _ = w.copy_(v.contiguous())
            }
        }
        return model
    }

    /// Builds the config's model, loads `checkpoint`, converts it to Keras (`kerasModel`), saves it to `out`
    /// (`outputPath`), then reloads the file and checks that it computes what the config model computes. For ONNX
    /// (`format(of:format:)`) the module is exported with `exportONNX` instead, which checks the file the same way.
    /// - Returns: the path written.
    /// - Throws: `ConfigError` for a bad config, `TrainError` for an unexportable layer or a mismatch, `ONNXError`
    ///   from the ONNX exporter, the checkpoint's and the file's errors.
    @discardableResult
    public static func export(config: TrainConfig, checkpoint: String, to out: String, format: String? = nil) throws -> String {
        let path = try outputPath(out, format: format)
        let built = try BuiltModel(config.model)
        try loadWeights(into: built.module, from: checkpoint)
        _ = built.module.eval()
        if try Self.format(of: out, format: format) == .onnx {
            // The config's own module, traced (any layer the exporter lowers, not only those Keras has); the exporter
            // reads the file back and checks it against the module before returning.
            try exportONNX(built.module, exampleInputs: [Tensor.randn([2] + built.inputShape)], to: path)
            return path
        }
        let keras = try kerasModel(built, name: config.name)
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try keras.save(path)
        // The file, read back as a server reads it, must give the config model's outputs.
        let reloaded = try loadModel(path)
        let x = Tensor.randn([2] + built.inputShape)
        let (a, b) = noGrad { (built.module(x), reloaded.predict(x, batchSize: 2)) }
        let diff = (a - b).abs().max().item()
        let scale = max(1, a.abs().max().item())
        guard a.shape == b.shape, diff <= 1e-4 * scale else {
            throw TrainError("export: the saved model computes outputs \(b.shape) that differ from the config model's \(a.shape) by \(diff)")
        }
        return path
    }
}
