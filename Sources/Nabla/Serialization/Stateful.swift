/// An ordered map from dotted names to tensors: the state of a model, an optimizer, a scheduler, a
/// generator or a data loader (PyTorch's `state_dict()`).
///
/// Everything is a tensor, scalars included (0-d float64 or int64 tensors), so any state dict is
/// written to one safetensors file as is and a `Checkpoint` is just several of them under prefixes
/// (`model.fc1.weight`, `optimizer.state.0.exp_avg`, `scheduler.last_epoch`, ...).
/// Keys keep their insertion order, which is the declaration order of the parameters.
public struct StateDict: Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The names, in insertion order.
    public private(set) var keys: [String] = []
    private var values: [String: Tensor] = [:]

    /// An empty state dict.
    public init() {}

    /// A state dict from `(name, tensor)` pairs, in order; a repeated name keeps the last tensor.
    public init(_ entries: [(String, Tensor)]) { for (k, v) in entries { self[k] = v } }

    /// A state dict from a literal, in the literal's order.
    public init(dictionaryLiteral elements: (String, Tensor)...) { self.init(elements) }

    /// The tensor stored under `key`; assigning nil removes it, assigning a new key appends it.
    public subscript(key: String) -> Tensor? {
        get { values[key] }
        set {
            if let v = newValue {
                if values.updateValue(v, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Number of entries.
    public var count: Int { keys.count }
    /// Whether there are no entries.
    public var isEmpty: Bool { keys.isEmpty }

    /// The entries in order.
    public func makeIterator() -> IndexingIterator<[(String, Tensor)]> {
        keys.map { ($0, values[$0]!) }.makeIterator()
    }

    /// Appends every entry of `other` with `prefix` in front of its name (`"model."`).
    public mutating func merge(_ other: StateDict, prefix: String = "") {
        for (k, v) in other { self[prefix + k] = v }
    }

    /// The entries whose names start with `prefix`, with the prefix removed (`scoped("model.")`).
    public func scoped(_ prefix: String) -> StateDict {
        var out = StateDict()
        for k in keys where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = values[k]! }
        return out
    }

    /// The scalar stored under `key` as a Double, or nil when absent or not one value (a loaded file may hold
    /// anything under a key: use `scalarDouble(_:owner:)` to report which).
    public func double(_ key: String) -> Double? { try? scalarDouble(key, owner: "StateDict") }

    /// The scalar stored under `key` as an Int (exact for any int64), or nil when absent, not one value, or
    /// not an integer (`scalarInt(_:owner:)` reports which).
    public func int(_ key: String) -> Int? { try? scalarInt(key, owner: "StateDict") }

    /// The scalar stored under `key` as a Double; nil when absent.
    /// - Throws: `StateDictError` naming `owner` (when not empty) and the key when the tensor does not hold exactly one value.
    public func scalarDouble(_ key: String, owner: String) throws(StateDictError) -> Double? {
        guard let t = values[key] else { return nil }
        guard t.count == 1 else {
            throw StateDictError(prefix(owner) + "'\(key)' must hold one value, got shape \(t.shape) \(t.dtype)")
        }
        return t.item()
    }

    private func prefix(_ owner: String) -> String { owner.isEmpty ? "" : owner + ": " }

    /// The scalar stored under `key` as an Int; nil when absent.
    /// - Throws: `StateDictError` naming `owner` (when not empty) and the key when the tensor does not hold exactly one value, or
    ///   holds a float that is not a whole number in Int's range.
    public func scalarInt(_ key: String, owner: String) throws(StateDictError) -> Int? {
        guard let t = values[key] else { return nil }
        guard t.count == 1 else {
            throw StateDictError(prefix(owner) + "'\(key)' must hold one integer, got shape \(t.shape) \(t.dtype)")
        }
        if t.dtype == .int64 || t.dtype == .int32 { return Int(t.contiguous().toArray(Int64.self)[0]) }
        let d = t.item()
        guard d.isFinite, d.rounded() == d, d >= -0x1p62, d <= 0x1p62 else {
            throw StateDictError(prefix(owner) + "'\(key)' must be an integer, got \(d)")
        }
        return Int(d)
    }

    /// Stores a Double as a 0-d float64 tensor.
    public mutating func set(_ key: String, _ value: Double) { self[key] = Tensor(value, dtype: .float64) }

    /// Stores an Int as a 0-d int64 tensor.
    public mutating func set(_ key: String, _ value: Int) { self[key] = Tensor(value) }

    /// One line per entry: name, shape and dtype.
    public var description: String {
        "StateDict(" + keys.map { "\($0): \(values[$0]!.shape) \(values[$0]!.dtype)" }.joined(separator: ", ") + ")"
    }
}

/// Why a state dict could not be loaded; the message names the keys and shapes involved.
public struct StateDictError: Error, CustomStringConvertible {
    /// What went wrong, e.g. "Linear.loadStateDict: missing keys [fc.bias]".
    public let message: String
    /// Creates an error with a message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Anything with state to save and restore: modules, optimizers, schedulers, generators, data loaders.
///
/// A `Checkpoint` is a set of named `Stateful` parts written to one file; resuming loads each part back.
public protocol Stateful: AnyObject {
    /// The current state, as tensors under dotted names.
    func stateDict() -> StateDict
    /// Restores the state; with `strict`, missing or unexpected keys are an error.
    func loadStateDict(_ state: StateDict, strict: Bool) throws
}

extension Stateful {
    /// Restores the state strictly (every key present, no extra keys).
    public func loadStateDict(_ state: StateDict) throws { try loadStateDict(state, strict: true) }
}
