import NablaOptim

/// Loads weights into `module` from `checkpoint`: a checkpoint written by `Trainer` (its `model` part) or a plain
/// safetensors state dict such as `<output>/model.safetensors`. A `checkpoints/latest` pointer, or a folder holding
/// one, is followed first (`resolveCheckpointPath(_:)`).
/// - Throws: `TrainError` for a pointer that leads nowhere, `SerializationError` for an unreadable file or one that
///   is not safetensors, `StateDictError` when the weights do not fit the model.
public func loadWeights(into module: Module, from checkpoint: String) throws {
    let path = try resolveCheckpointPath(checkpoint)
    try requireSafetensorsFile(at: path)
    let (state, metadata) = try loadSafetensorsWithMetadata(from: path)
    if metadata["format"] == "nabla-checkpoint" {
        try Checkpoint.load(from: path).restore(parts: [("model", module)])
    } else {
        try module.loadStateDict(state, strict: true)
    }
}
