import Foundation
import Nabla

/// Builds modules without drawing their initial weights, for models whose weights are loaded right after
/// (`torch.nn.utils.skip_init`, Hugging Face's fast initialisation in `from_pretrained`).
///
/// Inside `body`, on the calling thread, layers get zero-filled parameters instead of random ones, and the random
/// initialisers (`uniform_`, `normal_`, `xavierUniform_`, `kaimingNormal_`, `truncNormal_`, `orthogonal_`, …) leave
/// their tensor as it is. Constant initialisers (`zeros_`, `ones_`, `constant_`, `eye_`) still run, and so do
/// non-random defaults such as LayerNorm's ones and zeros (NablaKeras' random initialisers give zeros too). Load every parameter before using the model:
/// ```swift
/// let model = withoutInitialization { MyModel() }
/// try model.loadStateDict(loadSafetensors(from: "weights.safetensors"))
/// ```
/// all-MiniLM-L6-v2 spent most of its loading time drawing 22 million random numbers that the checkpoint overwrote.
public func withoutInitialization<R>(_ body: () throws -> R) rethrows -> R {
    let key = SkipInitialization.key
    let dictionary = Thread.current.threadDictionary
    let previous = dictionary[key]
    dictionary[key] = true
    defer { dictionary[key] = previous }
    return try body()
}

/// The flag behind `withoutInitialization`, for layer libraries built on NablaNN (NablaKeras' initialisers).
package enum SkipInitialization {
    static let key = "nabla.withoutInitialization"
    /// Whether the calling thread is inside `withoutInitialization`.
    package static var active: Bool { Thread.current.threadDictionary[key] as? Bool ?? false }
}
