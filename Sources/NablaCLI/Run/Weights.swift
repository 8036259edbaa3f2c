import NablaOptim

/// Loads weights into `module` from `path`: a checkpoint written by `Trainer` (its `model` part) or a plain
/// safetensors state dict such as `<output>/model.safetensors`.
/// - Throws: `SerializationError` for an unreadable file, `StateDictError` when the weights do not fit the model.
public func loadWeights(into module: Module, from path: String) throws {
    let (state, metadata) = try loadSafetensorsWithMetadata(from: path)
    if metadata["format"] == "nabla-checkpoint" {
        try Checkpoint.load(from: path).restore(parts: [("model", module)])
    } else {
        try module.loadStateDict(state, strict: true)
    }
}
