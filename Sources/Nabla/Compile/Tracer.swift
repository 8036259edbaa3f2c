import Foundation

/// Something whose updates depend on host-side state that changes from one run to the next (an optimizer: its
/// step count and learning rate). A compiled graph asks it, at each run, for the rules of that run.
public protocol RuleSource: AnyObject {
    /// Advances the host-side state exactly as one eager step does and returns the rules that step passes to
    /// `Backend.optimizerStep`, in the same order, without running any kernel.
    func nextRules() -> [OptimizerRule]
}

/// Why a trace could not become a graph: the traced code needs a value on the host, or returns what a graph
/// cannot give back.
public struct GraphBreak: CustomStringConvertible, Sendable {
    /// What happened.
    public let reason: String
    /// Where, in the traced Swift code.
    public let location: TraceLocation

    /// `reason at File.swift:12`.
    public var description: String { "\(reason) at \(location)" }
}

/// Records the backend calls one thread makes while `compile` traces a function, and runs them for real (the trace
/// is also an eager run, so `.item()` has a value to give, and the traced call returns the eager result).
///
/// Installed in the thread's `AutogradFlags`; `Tensor.backend` then hands out a `TracingBackend` in front of the real
/// one, which records each call as a `TracedNode` over the buffers it reads and writes.
final class Tracer {
    private(set) var buffers: [TracedBuffer] = []
    private(set) var nodes: [TracedNode] = []
    /// The storages seen so far, held strongly until the trace ends (so identities are never reused) → buffer.
    private var bufferOf: [ObjectIdentifier: Int] = [:]
    private var storages: [Storage] = []
    /// Storages allocated during the trace.
    private var fresh: Set<ObjectIdentifier> = []
    /// Context objects → the node that produced them.
    private var contextNode: [ObjectIdentifier: Int] = [:]
    private var contexts: [AnyObject] = []
    private var wrappers: [ObjectIdentifier: TracingBackend] = [:]
    /// Leaves whose `.grad` autograd assigned during the trace.
    private(set) var gradLeaves: [Tensor] = []
    private var gradLeafIDs: Set<ObjectIdentifier> = []
    /// The rule sources (optimizers) met, in order, and the rules each has given so far in this trace.
    private(set) var ruleSources: [RuleSource] = []
    private(set) var ruleCounts: [Int] = []
    /// Buffers some recorded node has written.
    private var written = Set<Int>()
    private var currentSource: Int?
    /// The first reason this trace cannot become a graph.
    private(set) var graphBreak: GraphBreak?
    /// A symbolic (meta) trace: calls are recorded but no kernel runs (`MetaTrace.swift`).
    var isMeta = false

    /// Whether this trace is being recorded (false after a graph break).
    var isRecording: Bool { graphBreak == nil }

    // MARK: Installing

    /// Runs `body` with this tracer recording the calling thread's backend calls.
    func recording<R>(_ body: () throws -> R) rethrows -> R {
        let f = AutogradState.flags
        let saved = f.pointee.tracer
        f.pointee.tracer = Unmanaged.passUnretained(self).toOpaque()
        defer { AutogradState.flags.pointee.tracer = saved }
        return try body()
    }

    /// Runs `body` with recording paused (the real backend's own work, which may call other backends' ops).
    @inline(__always) func paused<R>(_ body: () -> R) -> R {
        let f = AutogradState.flags
        let saved = f.pointee.tracer
        f.pointee.tracer = nil
        defer { AutogradState.flags.pointee.tracer = saved }
        return body()
    }

    /// The recorder in front of `base` (the hook `Tensor.backend` calls while a trace is installed).
    static func recording(_ raw: UnsafeMutableRawPointer, _ base: any Backend) -> any Backend {
        let t = Unmanaged<Tracer>.fromOpaque(raw).takeUnretainedValue()
        let id = ObjectIdentifier(base)
        if let w = t.wrappers[id] { return w }
        let w = TracingBackend(base: base, tracer: t)
        t.wrappers[id] = w
        return w
    }

    /// The backend behind a recorder (itself for any other backend).
    static func realBackend(_ b: any Backend) -> any Backend { (b as? TracingBackend)?.base ?? b }

    /// The tracer installed on this thread, if any.
    static var current: Tracer? {
        AutogradState.flags.pointee.tracer.map { Unmanaged<Tracer>.fromOpaque($0).takeUnretainedValue() }
    }

    // MARK: Hooks called by the eager code

    /// Notes a storage allocated during the trace.
    static func noteAllocation(_ raw: UnsafeMutableRawPointer, _ s: Storage) {
        let t = Unmanaged<Tracer>.fromOpaque(raw).takeUnretainedValue()
        t.fresh.insert(ObjectIdentifier(s))
        t.storages.append(s)
        if t.isMeta { t.zeroMetaStorage(s) }
    }

    /// Called before the host reads `t`'s elements: a value the graph computed cannot be read while tracing.
    static func noteHostRead(_ x: Tensor, op: String) {
        guard let t = current, t.isRecording else { return }
        if let what = t.varyingValue(x.storage) {
            t.breakGraph("\(op) reads a tensor of shape \(x.shape) that \(what)")
        }
    }

    /// Called when autograd assigns or accumulates a leaf's `.grad`.
    static func noteGradAssigned(_ leaf: Tensor) {
        guard let t = current, t.isRecording else { return }
        if t.gradLeafIDs.insert(ObjectIdentifier(leaf)).inserted { t.gradLeaves.append(leaf) }
    }

    /// Runs `body` (one optimizer step's kernel calls) with `source` as the owner of the rules it records.
    static func withRuleSource<R>(_ source: RuleSource, _ body: () -> R) -> R {
        guard let t = current, t.isRecording else { return body() }
        let i: Int
        if let k = t.ruleSources.firstIndex(where: { $0 === source }) { i = k } else {
            t.ruleSources.append(source); t.ruleCounts.append(0); i = t.ruleSources.count - 1
        }
        let saved = t.currentSource
        t.currentSource = i
        defer { t.currentSource = saved }
        return body()
    }

    /// Stops recording: the rest of the call runs eagerly and the signature falls back to eager.
    func breakGraph(_ reason: String) {
        guard graphBreak == nil else { return }
        graphBreak = GraphBreak(reason: reason, location: .here())
    }

    // MARK: Recording

    /// What `s` holds when its value may change from call to call (an argument, an intermediate, a buffer a node
    /// wrote, or a tensor captured from outside: a parameter, a threshold the caller updates), nil for a storage the
    /// trace has not met or a literal: reading a varying value on the host makes the rest of the call depend on
    /// data, and the graph would keep the value of the traced call.
    private func varyingValue(_ s: Storage) -> String? {
        let computed = "the traced code computed", captured = "the function captured (its value may change between calls)"
        // Not met yet: a tensor from outside the call, unless the traced code created it (a literal).
        guard let b = bufferOf[ObjectIdentifier(s)] else { return fresh.contains(ObjectIdentifier(s)) ? nil : captured }
        if written.contains(b) { return computed }
        switch buffers[b].role {
        case .input: return "is an argument"
        case .intermediate: return computed
        case .constant: return nil
        case .captured: return captured
        }
    }

    /// The buffer of a storage the trace has not seen yet, classified by how it is first met.
    private func buffer(of s: Storage, writing: Bool) -> Int {
        let id = ObjectIdentifier(s)
        if let b = bufferOf[id] { return b }
        let count = s.byteCount / Swift.max(s.dtype.itemSize, 1)
        let role: BufferRole
        if fresh.contains(id) { role = writing ? .intermediate : .constant } else { role = .captured }
        var buf = TracedBuffer(role: role, dtype: s.dtype, count: count, storage: role == .intermediate ? nil : s)
        if role == .constant {
            var bytes = [UInt8](repeating: 0, count: s.byteCount)
            paused { bytes.withUnsafeMutableBytes { s.backend.download(s, byteOffset: 0, into: $0) } }
            buf.initialBytes = bytes
        }
        buffers.append(buf)
        storages.append(s)
        bufferOf[id] = buffers.count - 1
        return buffers.count - 1
    }

    /// Registers the `k`-th input of the traced function.
    func registerInput(_ x: Tensor, index k: Int) -> TensorRef {
        let id = ObjectIdentifier(x.storage)
        if bufferOf[id] == nil {
            buffers.append(TracedBuffer(role: .input(k), dtype: x.dtype, count: x.storage.byteCount / x.dtype.itemSize, storage: nil,
                                        inputBackend: x.storage.backend))
            storages.append(x.storage)
            bufferOf[id] = buffers.count - 1
        }
        return ref(x, writing: false)
    }

    /// The view of `x` as a graph edge.
    func ref(_ x: Tensor, writing: Bool) -> TensorRef {
        TensorRef(buffer: buffer(of: x.storage, writing: writing), shape: x.shape, strides: x.strides, offset: x.offset)
    }

    /// The view of a tensor a backend allocated and returned: a new intermediate.
    private func returnedRef(_ x: Tensor) -> TensorRef {
        fresh.insert(ObjectIdentifier(x.storage))
        return ref(x, writing: true)
    }

    /// The buffer a tensor's storage has in the trace, if any.
    func existingRef(_ x: Tensor) -> TensorRef? {
        guard let b = bufferOf[ObjectIdentifier(x.storage)] else { return nil }
        return TensorRef(buffer: b, shape: x.shape, strides: x.strides, offset: x.offset)
    }

    /// Records one backend call and runs it on `base`; returns what the call returns.
    func record(_ kind: OpKind, on base: any Backend, reads: [Tensor?], writes: [Tensor], context: AnyObject? = nil,
                rule: OptimizerRule? = nil, call: @escaping NodeCall) -> NodeResult {
        let result = isMeta ? metaResult(kind, on: base, reads: reads, context: context)
                            : paused { call(base, NodeArgs(reads: reads, writes: writes, context: context, rule: rule)) }
        guard isRecording else { return result }
        if case .upload = kind {} else {
            // A node reading a storage written on the host since it was last seen would read stale data at replay.
            for r in reads { if let r { _ = buffer(of: r.storage, writing: false) } }
        }
        var node = TracedNode(kind: kind, reads: reads.map { $0.map { ref($0, writing: false) } },
                              writes: writes.map { ref($0, writing: true) }, returned: [], contextFrom: nil,
                              location: .here(), backend: base, call: call, rule: nil)
        node.returned = result.returned.map { $0.map(returnedRef) }
        if let context {
            guard let from = contextNode[ObjectIdentifier(context)] else {
                breakGraph("\(kind) reads a context made outside the traced code"); return result
            }
            node.contextFrom = from
        }
        if rule != nil {
            guard let s = currentSource else {
                breakGraph("optimizerStep called outside an optimizer's step()"); return result
            }
            node.rule = (s, ruleCounts[s])
            ruleCounts[s] += 1
        }
        nodes.append(node)
        for w in node.writes { written.insert(w.buffer) }
        if let c = result.context {
            contexts.append(c)
            contextNode[ObjectIdentifier(c)] = nodes.count - 1
        }
        return result
    }

    /// Records a host upload into `storage` as a constant node.
    func recordUpload(on base: any Backend, bytes: UnsafeRawBufferPointer, storage: Storage, byteOffset: Int) {
        _ = paused { base.upload(bytes, to: storage, byteOffset: byteOffset) }
        guard isRecording else { return }
        let b = buffer(of: storage, writing: true)
        if buffers[b].role == .captured {
            breakGraph("a host upload into a tensor that existed before the trace"); return
        }
        let count = buffers[b].count
        let whole = TensorRef(buffer: b, shape: [count], strides: [1], offset: 0)
        written.insert(b)
        // The call (`OpKind.sizedCall`) offsets by the buffer's view: it may start inside a shared arena (the memory plan).
        let kind = OpKind.upload(byteOffset: byteOffset, bytes: Data(bytes))
        nodes.append(TracedNode(kind: kind, reads: [], writes: [whole], returned: [], contextFrom: nil, location: .here(),
                                backend: base, call: kind.sizedCall!, rule: nil))
    }

    /// Records a host download of `storage` (a data-dependent read): a graph break when the graph wrote it.
    func noteDownload(_ storage: Storage) {
        if isRecording, let what = varyingValue(storage) { breakGraph("a host read of a tensor that \(what)") }
    }
}
