/// A value read from a PyTorch checkpoint: tensors inside the containers `torch.save` pickles.
///
/// The restricted unpickler of `loadTorchObject(from:)` builds only these: what `torch.load(weights_only=True)`
/// accepts. Dict keys keep their type (usually strings; optimizer state uses ints); dicts keep insertion order.
public indirect enum TorchValue: CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case tensor(Tensor)
    case list([TorchValue])
    case tuple([TorchValue])
    case dict([(key: TorchValue, value: TorchValue)])

    /// The tensor, when this value is one.
    public var tensor: Tensor? { if case .tensor(let t) = self { return t }; return nil }

    /// The value stored under the string key `key`, when this value is a dict.
    public subscript(key: String) -> TorchValue? {
        guard case .dict(let items) = self else { return nil }
        return items.first { if case .string(let s) = $0.key { return s == key }; return false }?.value
    }

    /// Every tensor inside, under dotted names: dict keys and list/tuple indices joined with "."
    /// (`{"model": {"fc.weight": t}}` gives `model.fc.weight`). Non-tensor leaves are skipped.
    public func flattened(prefix: String = "") -> StateDict {
        var out = StateDict()
        func walk(_ v: TorchValue, _ name: String) {
            let dot = name.isEmpty ? "" : name + "."
            switch v {
            case .tensor(let t): out[name] = t
            case .dict(let items): for (k, x) in items { walk(x, dot + k.keyName) }
            case .list(let xs), .tuple(let xs): for (i, x) in xs.enumerated() { walk(x, dot + String(i)) }
            default: break
            }
        }
        walk(self, prefix)
        return out
    }

    /// How a key reads inside a dotted name.
    var keyName: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .double(let d): return String(d)
        case .none: return "None"
        default: return description
        }
    }

    /// A short Python-like rendering (tensors as `tensor(shape, dtype)`).
    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "'" + s + "'"
        case .bytes(let b): return "b<\(b.count) bytes>"
        case .tensor(let t): return "tensor(shape: \(t.shape), dtype: \(t.dtype))"
        case .list(let xs): return "[" + xs.map(\.description).joined(separator: ", ") + "]"
        case .tuple(let xs): return "(" + xs.map(\.description).joined(separator: ", ") + (xs.count == 1 ? ",)" : ")")
        case .dict(let items): return "{" + items.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}
