/// The keys that did not line up when loading a state dict non-strictly (PyTorch's `_IncompatibleKeys`).
public struct IncompatibleKeys: Equatable, CustomStringConvertible {
    /// Names the module has but the state dict lacks (left unchanged).
    public var missingKeys: [String]
    /// Names the state dict has but the module lacks (ignored).
    public var unexpectedKeys: [String]
    /// Whether every key matched.
    public var isEmpty: Bool { missingKeys.isEmpty && unexpectedKeys.isEmpty }
    /// `IncompatibleKeys(missingKeys: [...], unexpectedKeys: [...])`.
    public var description: String { "IncompatibleKeys(missingKeys: \(missingKeys), unexpectedKeys: \(unexpectedKeys))" }
}

extension Module: Stateful {
    /// The parameters and buffers under PyTorch's dotted names (`model.state_dict()`).
    ///
    /// Order: each module's own tensors in declaration order, then its children's, depth first — the order
    /// PyTorch uses for the same model. A tensor shared by two modules appears under both names. The tensors
    /// are detached views of the live ones (they share storage, as in PyTorch; save or clone them to keep a copy).
    /// ```swift
    /// try saveSafetensors(model.stateDict(), to: "model.safetensors")
    /// ```
    public func stateDict() -> StateDict {
        var out = StateDict()
        collectState(prefix: "", into: &out)
        return out
    }

    private func collectState(prefix: String, into out: inout StateDict) {
        for (n, t) in namedDirectTensors() { out[prefix + n] = t.detached() }
        for (n, c) in namedChildren() { c.collectState(prefix: prefix + n + ".", into: &out) }
    }

    /// The live parameters and buffers under their state-dict names.
    private func liveState() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        func walk(_ m: Module, _ prefix: String) {
            for (n, t) in m.namedDirectTensors() { out.append((prefix + n, t)) }
            for (n, c) in m.namedChildren() { walk(c, prefix + n + ".") }
        }
        walk(self, "")
        return out
    }

    /// Copies `state` into the parameters and buffers in place (`model.load_state_dict(state, strict)`).
    ///
    /// See `loadStateDictReportingKeys(_:strict:)`; this is the `Stateful` form, which discards the incompatible keys.
    public func loadStateDict(_ state: StateDict, strict: Bool) throws {
        try loadStateDictReportingKeys(state, strict: strict)
    }

    /// Copies `state` into the parameters and buffers in place and reports the keys that did not match
    /// (`model.load_state_dict(state, strict)`, whose result it mirrors).
    ///
    /// (Not named `load`, which inside a `Module` subclass would hide the free function `load(from:)`.)
    ///
    /// Values are copied into the existing tensors under `noGrad`, so optimizers holding the parameters keep
    /// working; a value of another dtype is converted as `Tensor.copy_` does (float64 into a float32
    /// parameter rounds). Nothing is modified unless the whole load succeeds.
    /// - With `strict` (the default), any missing key, unexpected key or shape mismatch throws ONE
    ///   `StateDictError` listing all of them.
    /// - With `strict: false`, matching keys are loaded and the others returned as `missingKeys` /
    ///   `unexpectedKeys` (a replaced head, a backbone loaded into a bigger model); shape mismatches of
    ///   matching keys still throw, as in PyTorch.
    /// ```swift
    /// let keys = try model.loadStateDictReportingKeys(pretrained, strict: false)
    /// print(keys.missingKeys)   // ["head.weight", "head.bias"]
    /// ```
    @discardableResult
    public func loadStateDictReportingKeys(_ state: StateDict, strict: Bool = true) throws -> IncompatibleKeys {
        let live = liveState()
        var known = Set<String>()
        var missing: [String] = []
        var mismatched: [String] = []
        var pairs: [(Tensor, Tensor)] = []
        for (name, t) in live {
            known.insert(name)
            guard let v = state[name] else { missing.append(name); continue }
            if v.shape != t.shape {
                mismatched.append("\(name): checkpoint shape \(v.shape), model shape \(t.shape)")
                continue
            }
            pairs.append((t, v))
        }
        let unexpected = state.keys.filter { !known.contains($0) }
        var problems: [String] = []
        if !mismatched.isEmpty { problems.append("size mismatch for " + mismatched.joined(separator: "; ")) }
        if strict && !missing.isEmpty { problems.append("missing keys \(missing)") }
        if strict && !unexpected.isEmpty { problems.append("unexpected keys \(unexpected)") }
        if !problems.isEmpty {
            throw StateDictError("\(typeName).loadStateDict: " + problems.joined(separator: "; "))
        }
        noGrad {
            for (t, v) in pairs where t !== v { t.copy_(v) }
        }
        return IncompatibleKeys(missingKeys: missing, unexpectedKeys: unexpected)
    }
}
