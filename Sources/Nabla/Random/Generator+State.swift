extension Generator {
    /// The generator's full state as words, for checkpoints (`get_state`):
    /// `[seed, counter]` for Philox; for MT19937 `[seed, index, has cached normal, cached normal bits]`
    /// followed by the 624 state words.
    public var stateValue: [UInt64] {
        state.withLock { s in
            switch s.engine {
            case .philox:
                return [s.seed, s.counter]
            case .mt19937:
                let t = s.twister!
                return [s.seed, UInt64(t.index), s.nextNormal == nil ? 0 : 1, s.nextNormal?.bitPattern ?? 0] + t.words.map(UInt64.init)
            }
        }
    }

    /// Restores a state from `stateValue` (`set_state`); its length selects the engine.
    public func setState(_ value: [UInt64]) {
        let twisterCount = 4 + MersenneTwister.size
        check(value.count == 2 || value.count == twisterCount,
              "Generator.setState: expected [seed, counter] (philox) or \(twisterCount) words (mt19937), got \(value.count) values")
        if value.count == 2 {
            state.withLock { s in
                s = State(seed: value[0], engine: .philox)
                s.counter = value[1]
            }
            return
        }
        let words = value[4...].map { UInt32(truncatingIfNeeded: $0) }
        check(value[1] <= UInt64(MersenneTwister.size) && value[2] <= 1 && value[4...].allSatisfy { $0 <= UInt64(UInt32.max) },
              "Generator.setState: malformed mt19937 state (index \(value[1]) must be in 0...\(MersenneTwister.size), cached-normal flag \(value[2]) 0 or 1, words 32-bit)")
        let twister = MersenneTwister(words: words, index: Int(value[1]))!
        state.withLock { s in
            s = State(seed: value[0], engine: .mt19937)
            s.twister = twister
            s.nextNormal = value[2] == 1 ? Double(bitPattern: value[3]) : nil
        }
    }
}

extension Generator: Stateful {
    /// The generator's state as exact int64 tensors (bit patterns of the unsigned values), as
    /// `torch.Generator.get_state()`: `seed` and `counter` for Philox; `seed` and `mt19937`
    /// (the words after the seed in `stateValue`) for MT19937.
    public func stateDict() -> StateDict {
        let s = stateValue
        var d = StateDict()
        d["seed"] = Tensor(shape: [], data: [Int64(bitPattern: s[0])])
        if s.count == 2 {
            d["counter"] = Tensor(shape: [], data: [Int64(bitPattern: s[1])])
        } else {
            d["mt19937"] = Tensor(shape: [s.count - 1], data: s.dropFirst().map { Int64(bitPattern: $0) })
        }
        return d
    }

    /// Restores a state from `stateDict()` (`set_state`); the stream then continues exactly where it was saved.
    /// - Throws: `StateDictError` when `seed` is missing, when neither `counter` nor `mt19937` is present,
    ///   when a value has the wrong shape or type or is not a valid state, or (with `strict`) when other
    ///   keys are present.
    public func loadStateDict(_ state: StateDict, strict: Bool) throws {
        func words(_ key: String, count: Int) throws -> [UInt64] {
            guard let t = state[key] else { throw StateDictError("Generator.loadStateDict: missing key '\(key)'") }
            guard t.count == count, t.dtype == .int64 else {
                throw StateDictError("Generator.loadStateDict: '\(key)' must be \(count) int64 values, got shape \(t.shape) \(t.dtype)")
            }
            return t.contiguous().toArray(Int64.self).map { UInt64(bitPattern: $0) }
        }
        let engineKey = state["mt19937"] == nil ? "counter" : "mt19937"
        if strict {
            let extra = state.keys.filter { $0 != "seed" && $0 != engineKey }
            if !extra.isEmpty { throw StateDictError("Generator.loadStateDict: unexpected keys \(extra)") }
        }
        let seed = try words("seed", count: 1)
        if engineKey == "counter" {
            setState(seed + (try words("counter", count: 1)))
            return
        }
        let rest = try words("mt19937", count: 3 + MersenneTwister.size)
        guard rest[0] <= UInt64(MersenneTwister.size), rest[1] <= 1, rest.dropFirst(3).allSatisfy({ $0 <= UInt64(UInt32.max) }) else {
            throw StateDictError("Generator.loadStateDict: 'mt19937' is not a valid MT19937 state (index \(rest[0]), cached-normal flag \(rest[1]))")
        }
        setState(seed + rest)
    }
}
