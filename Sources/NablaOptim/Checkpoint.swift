/// A training checkpoint: named `Stateful` parts (model, optimizer, scheduler, generator, data loader)
/// plus the epoch and step, written atomically to ONE safetensors file.
///
/// Each part's state dict is stored under its name as a prefix (`model.fc1.weight`,
/// `optimizer.state.0.exp_avg`, `loader.epoch`), and `epoch` / `step` as int64 scalars, so the file opens
/// in any safetensors reader. Restoring every part, generators included, resumes training bit-identically.
/// ```swift
/// // save
/// try Checkpoint(["model": model, "optimizer": opt, "loader": loader], epoch: 3, step: 1200)
///     .save(to: "ckpt.safetensors")
/// // resume, into freshly built objects
/// let ckpt = try Checkpoint.load(from: "ckpt.safetensors")
/// try ckpt.restore(into: ["model": model, "optimizer": opt, "loader": loader])
/// let startEpoch = ckpt.epoch
/// ```
public struct Checkpoint {
    /// Every tensor of the checkpoint: the parts under their prefixes, and `epoch`, `step`.
    public private(set) var state: StateDict
    /// The part names, in the order they were given.
    public private(set) var partNames: [String]
    /// The epoch (the caller's meaning: usually epochs completed).
    public var epoch: Int
    /// The step (usually optimizer steps taken).
    public var step: Int

    /// Captures the state dicts of `parts` now (views of live tensors: save before training on).
    ///
    /// Part names must be non-empty, unique, without `.`, and not `epoch` or `step`.
    public init(_ parts: KeyValuePairs<String, any Stateful>, epoch: Int = 0, step: Int = 0) {
        self.init(parts: parts.map { ($0.key, $0.value) }, epoch: epoch, step: step)
    }

    /// Captures the state dicts of `parts` (an array form of `init(_:epoch:step:)`).
    public init(parts: [(String, any Stateful)], epoch: Int = 0, step: Int = 0) {
        state = StateDict()
        partNames = []
        self.epoch = epoch
        self.step = step
        for (name, part) in parts {
            Checkpoint.checkName(name)
            check(!partNames.contains(name), "Checkpoint: part '\(name)' given twice")
            partNames.append(name)
            state.merge(part.stateDict(), prefix: name + ".")
        }
    }

    private init(state: StateDict, partNames: [String], epoch: Int, step: Int) {
        self.state = state; self.partNames = partNames; self.epoch = epoch; self.step = step
    }

    private static func checkName(_ name: String) {
        check(!name.isEmpty && !name.contains(".") && !name.contains(",") && name != "epoch" && name != "step",
              "Checkpoint: part name '\(name)' must be non-empty, without '.' or ',', and not 'epoch' or 'step'")
    }

    static let formatTag = "nabla-checkpoint"

    /// Writes the checkpoint to `path` as one safetensors file, atomically (temp file, fsync, rename):
    /// a crash mid-save leaves the previous checkpoint intact.
    public func save(to path: String) throws {
        var all = state
        all.set("epoch", epoch)
        all.set("step", step)
        try saveSafetensors(all, to: path, metadata: ["format": Checkpoint.formatTag, "parts": partNames.joined(separator: ",")])
    }

    /// Reads a checkpoint written by `save(to:)`.
    /// - Throws: `SerializationError` for an unreadable file, `StateDictError` when it is not a Nabla checkpoint.
    public static func load(from path: String) throws -> Checkpoint {
        let (all, metadata) = try loadSafetensorsWithMetadata(from: path)
        guard metadata["format"] == formatTag, let parts = metadata["parts"] else {
            throw StateDictError("Checkpoint.load: \(path) is not a Nabla checkpoint (its metadata lacks format=\(formatTag) and parts)")
        }
        func scalar(_ key: String) throws -> Int {
            guard let t = all[key], t.count == 1, t.dtype == .int64 else {
                throw StateDictError("Checkpoint.load: \(path) lacks the int64 scalar '\(key)'")
            }
            guard t.rank == 0 else {
                throw StateDictError("Checkpoint.load: \(path): '\(key)' must be an int64 scalar (shape []), got shape \(t.shape)")
            }
            return Int(t.contiguous().toArray(Int64.self)[0])
        }
        var state = all
        let epoch = try scalar("epoch"), step = try scalar("step")
        state["epoch"] = nil
        state["step"] = nil
        let names = parts.isEmpty ? [] : parts.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var seen = Set<String>()
        for name in names {
            guard !name.isEmpty, !name.contains("."), name != "epoch", name != "step" else {
                throw StateDictError("Checkpoint.load: \(path): part name '\(name)' in the metadata is not a valid part name")
            }
            guard seen.insert(name).inserted else {
                throw StateDictError("Checkpoint.load: \(path): part '\(name)' is listed twice in the metadata (parts: \(parts))")
            }
        }
        return Checkpoint(state: state, partNames: names, epoch: epoch, step: step)
    }

    /// The state dict of part `name` (prefix removed), or nil when the checkpoint has no such part.
    public subscript(part name: String) -> StateDict? {
        partNames.contains(name) ? state.scoped(name + ".") : nil
    }

    /// Loads each given part's state dict back into it (`strict` as `loadStateDict`).
    ///
    /// Every named part must be in the checkpoint; parts of the checkpoint not given are left alone.
    /// - Throws: `StateDictError` naming the part for a missing part or a state that does not fit.
    public func restore(into parts: KeyValuePairs<String, any Stateful>, strict: Bool = true) throws {
        try restore(parts: parts.map { ($0.key, $0.value) }, strict: strict)
    }

    /// Array form of `restore(into:strict:)`.
    public func restore(parts: [(String, any Stateful)], strict: Bool = true) throws {
        let absent = parts.map(\.0).filter { !partNames.contains($0) }
        guard absent.isEmpty else { throw StateDictError("Checkpoint.restore: no part named \(absent); the checkpoint has \(partNames)") }
        for (name, part) in parts {
            do { try part.loadStateDict(state.scoped(name + "."), strict: strict) } catch let e as StateDictError {
                throw StateDictError("Checkpoint.restore: part '\(name)': \(e.message)")
            }
        }
    }
}
