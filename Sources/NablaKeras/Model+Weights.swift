import NablaNN

extension Model {
    /// The weights keyed `layer_name.weight_name` (`dense_1.kernel`), in layer order.
    public func namedWeights() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        var seen = Set<ObjectIdentifier>()
        for (prefix, m) in namedModules() {
            guard let l = m as? Layer else { continue }
            for (n, w) in l.weightEntries where seen.insert(ObjectIdentifier(w)).inserted {
                out.append((prefix.isEmpty ? n : prefix + "." + n, w))
            }
        }
        return out
    }

    /// Saves the weights to a safetensors file (`save_weights`), keyed by layer name, with their
    /// order recorded in the file's metadata (`nabla.keras.weight_order`).
    public func saveWeights(_ path: String) throws {
        let named = namedWeights()
        try saveSafetensors(StateDict(named), to: path,
                            metadata: ["nabla.keras.weight_order": named.map(\.0).joined(separator: ",")])
    }

    /// Loads weights saved by `saveWeights` into this (built) model.
    ///
    /// Weights are matched by name when every name is in the file; otherwise by position in the saved
    /// order (as Keras' `load_weights` does), so a rebuilt model whose layers got other automatic names
    /// still loads. Throws naming the first missing or mis-shaped weight.
    public func loadWeights(_ path: String) throws {
        let (state, metadata) = try loadSafetensorsWithMetadata(from: path)
        let named = namedWeights()
        var sources: [(String, Tensor)] = []
        if named.allSatisfy({ state[$0.0] != nil }) {
            sources = named.map { ($0.0, state[$0.0]!) }
        } else {
            let order = metadata["nabla.keras.weight_order"].map { $0.split(separator: ",").map(String.init) } ?? state.keys
            guard order.count == named.count else {
                throw StateDictError("loadWeights: \(path) holds \(order.count) weights, model \(name) has \(named.count)")
            }
            for k in order {
                guard let v = state[k] else { throw StateDictError("loadWeights: \(path) has no weight \(k)") }
                sources.append((k, v))
            }
        }
        for ((k, v), (mk, w)) in zip(sources, named) {
            guard v.shape == w.shape else {
                throw StateDictError("loadWeights: weight \(k) has shape \(v.shape) in \(path), model weight \(mk) has \(w.shape)")
            }
        }
        noGrad { for ((_, v), (_, w)) in zip(sources, named) { _ = w.copy_(v) } }
    }
}
