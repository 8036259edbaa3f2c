import Foundation
import Nabla
import NablaServeCore
import Synchronization

/// How a version folder becomes a `ServableModel`: one loader per model file name.
///
/// `model.safetensors` (Keras `Model.save`, `nabla export`) is built in. Another format registers its loader once,
/// before the server starts; a version folder is served by the first registered file name it holds.
/// ```swift
/// ModelLoaders.register(fileName: "model.onnx") { path in try OnnxServableModel(contentsOf: path) }
/// ```
public enum ModelLoaders {
    /// Loads the model file at a path.
    public typealias Loader = @Sendable (String) throws -> any ServableModel

    private static let loaders = Mutex<[(String, Loader)]>([
        ("model.safetensors", { path in try KerasServableModel(contentsOf: path) }),
        ("model.onnx", { path in try ONNXServableModel(contentsOf: path) }),
    ])

    /// Registers (or replaces) the loader of model files named `fileName`.
    public static func register(fileName: String, _ loader: @escaping Loader) {
        loaders.withLock { list in
            if let k = list.firstIndex(where: { $0.0 == fileName }) { list[k].1 = loader } else { list.append((fileName, loader)) }
        }
    }

    /// The file names that can be served, in the order they are looked for.
    public static var fileNames: [String] { loaders.withLock { $0.map(\.0) } }

    /// Loads the model of the version folder `folder`.
    /// - Throws: `ServeError` when the folder holds no servable file (naming the files looked for, and saying so
    ///   when it holds `model.onnx` before ONNX can be served), or the loader's error.
    public static func load(folder: String) throws -> any ServableModel {
        let list = loaders.withLock { $0 }
        for (name, loader) in list {
            let path = folder + "/" + name
            if FileManager.default.fileExists(atPath: path) { return try loader(path) }
        }
        if FileManager.default.fileExists(atPath: folder + "/model.onnx") {
            throw ServeError(status: 500, "\(folder)/model.onnx: ONNX models cannot be served yet (no loader is registered for model.onnx)")
        }
        throw ServeError(status: 500, "\(folder) holds none of \(list.map(\.0).joined(separator: ", "))")
    }
}
