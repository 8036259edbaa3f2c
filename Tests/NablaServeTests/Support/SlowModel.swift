import Foundation
import Nabla
import NablaServe

/// A model that takes `delay` per forward pass and sums each row of `x: [4]` into `y: [1]`; served from version
/// folders holding a file `slow.model` (its loader is registered once).
final class SlowModel: ServableModel, @unchecked Sendable {
    let delay: Double
    let signature = ModelSignature(inputs: [TensorSignature(name: "x", dtype: .float32, shape: [-1, 4])],
                                   outputs: [TensorSignature(name: "y", dtype: .float32, shape: [-1, 1])])
    init(delay: Double) { self.delay = delay }

    func predict(_ inputs: [Tensor]) throws -> [Tensor] {
        Thread.sleep(forTimeInterval: delay)
        return [inputs[0].sum(dim: 1, keepDim: true)]
    }

    static let registered: Bool = {
        ModelLoaders.register(fileName: "slow.model") { path in
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "0.3"
            return SlowModel(delay: Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0.3)
        }
        return true
    }()

    /// Writes a version folder served by a `SlowModel` taking `delay` seconds per batch.
    static func publish(base: String, version: Int, delay: Double) throws {
        _ = registered
        let dir = base + "/\(version)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "\(delay)".write(toFile: dir + "/slow.model", atomically: true, encoding: .utf8)
    }
}
