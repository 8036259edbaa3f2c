extension Generator: Stateful {
    /// The generator's state as two exact int64 tensors, `seed` and `counter` (the Philox key and
    /// counter, bit patterns of the unsigned values), as `torch.Generator.get_state()`.
    public func stateDict() -> StateDict {
        let s = stateValue
        var d = StateDict()
        d["seed"] = Tensor(shape: [], data: [Int64(bitPattern: s[0])])
        d["counter"] = Tensor(shape: [], data: [Int64(bitPattern: s[1])])
        return d
    }

    /// Restores a state from `stateDict()` (`set_state`); the stream then continues exactly where it was saved.
    /// - Throws: `StateDictError` when `seed` or `counter` is missing or not a one-element integer tensor,
    ///   or (with `strict`) when other keys are present.
    public func loadStateDict(_ state: StateDict, strict: Bool) throws {
        func value(_ key: String) throws -> UInt64 {
            guard let t = state[key] else { throw StateDictError("Generator.loadStateDict: missing key '\(key)'") }
            guard t.count == 1, t.dtype == .int64 else {
                throw StateDictError("Generator.loadStateDict: '\(key)' must be a one-element int64 tensor, got shape \(t.shape) \(t.dtype)")
            }
            return UInt64(bitPattern: t.contiguous().toArray(Int64.self)[0])
        }
        if strict {
            let extra = state.keys.filter { $0 != "seed" && $0 != "counter" }
            if !extra.isEmpty { throw StateDictError("Generator.loadStateDict: unexpected keys \(extra)") }
        }
        setState([try value("seed"), try value("counter")])
    }
}
