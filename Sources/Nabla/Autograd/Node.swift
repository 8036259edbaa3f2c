/// How many autograd nodes the calling thread has made so far: the proof, in tests, that a compiled run records none.
public func autogradNodesCreated() -> Int { AutogradState.flags.pointee.nodesCreated }


/// The backward function of a recorded op: output gradients in, one gradient per input out
/// (nil where an input needs none). Written with Tensor ops, so it is itself differentiable.
public typealias BackwardFunction = (_ grads: [Tensor], _ node: Node) -> [Tensor?]

/// The backward of a single-output op with one or two inputs: the output gradient in, the inputs' gradients out as
/// a pair (the second nil for a one-input op; nil where an input needs none). The engine calls it with no array in
/// either direction (the hot ops of scalar graphs use it). Written with Tensor ops, so it is itself differentiable.
public typealias PairBackwardFunction = (_ grad: Tensor, _ node: Node) -> (Tensor?, Tensor?)

/// Where a gradient flows next: an input's producing node and which of its outputs the input was.
public struct Edge {
    /// The node that produced the input (an `AccumulateGrad` for leaves); nil when the input needs no gradient.
    public let node: Node?
    /// Output index of `node`.
    public let outputNr: Int
}

/// One recorded op in the autograd graph (`grad_fn` in PyTorch).
public class Node {
    /// The op's name, as printed in `gradFn` (`MulBackward`).
    public let name: String
    // The edges, one per differentiable input: the first two inline (most ops have at most two inputs), so a
    // node of a unary or binary op allocates no array of edges.
    @exclusivity(unchecked) var edgeCount: Int
    @exclusivity(unchecked) var edge0 = Edge(node: nil, outputNr: 0)
    @exclusivity(unchecked) var edge1 = Edge(node: nil, outputNr: 0)
    /// The fields most nodes never use (edges and saved tensors past the second, several outputs, hooks), out of
    /// line: a node of a unary or binary op keeps one nil reference instead of nine empty arrays to set and release.
    @exclusivity(unchecked) var extras: NodeExtras? = nil
    @exclusivity(unchecked) var backwardFn: BackwardFunction?
    /// The backward of a one- or two-input op recorded with `record(_:op:inputs:pairBackward:)` (then `backwardFn`
    /// is nil).
    @exclusivity(unchecked) var pairBackwardFn: PairBackwardFunction? = nil
    // The saved tensors and their versions when they were saved, the first two inline as the edges are.
    @exclusivity(unchecked) var savedCount = 0
    @exclusivity(unchecked) var saved0: Tensor? = nil
    @exclusivity(unchecked) var saved1: Tensor? = nil
    @exclusivity(unchecked) var savedVersion0 = 0
    @exclusivity(unchecked) var savedVersion1 = 0
    /// A scalar operand the backward needs (`x * 2.0`), kept here so the backward closure captures nothing.
    @exclusivity(unchecked) var savedScalar: Double = 0
    // A single-output op's saved output (`relu`, `tanh`, `exp`) inline; several outputs in the arrays.
    @exclusivity(unchecked) var savedOutput0: Tensor? = nil
    @exclusivity(unchecked) var savedOutputVersion0 = 0
    /// Number of outputs.
    public let outputCount: Int
    /// Shape of the first output, and of the others when there are several: to materialise zero gradients
    /// for unused outputs. Kept apart so a single-output node allocates no array of shapes.
    let firstOutputShape: [Int]
    @exclusivity(unchecked) var outputDType: DType
    /// The device of the outputs (where missing output gradients are made as zeros).
    @exclusivity(unchecked) var outputDevice: Device
    /// Whether this is an `AccumulateGrad` (checked by the engine without a dynamic cast).
    let isAccumulator: Bool
    @exclusivity(unchecked) var released = false
    /// Set by the engine while it runs this node's pair backward on its fast path: `gradientProduct` may then add
    /// a product straight into the gradient gathered at an input's node (`Node+GradientProduct.swift`).
    @exclusivity(unchecked) var fusesGradients = false
    // Engine scratch, valid during one backward pass: the gradient gathered for output 0 (for the others: in
    // `extras`).
    @exclusivity(unchecked) var pending0: Tensor? = nil
    @exclusivity(unchecked) var dependencies = 0
    @exclusivity(unchecked) var mark = 0

    init(name: String, next: [Edge], outputShapes: [[Int]], dtype: DType, device: Device, backward: BackwardFunction?,
         isAccumulator: Bool = false) {
        self.name = name
        self.edgeCount = 0
        self.outputCount = outputShapes.count
        self.firstOutputShape = outputShapes.first ?? []
        self.outputDType = dtype
        self.outputDevice = device
        self.backwardFn = backward
        self.isAccumulator = isAccumulator
        if outputShapes.count > 1 { ensuredExtras.otherOutputShapes = Array(outputShapes.dropFirst()) }
        setEdges(next)
        AutogradState.flags.pointee.nodesCreated &+= 1
    }

    /// A node with one output of shape `outputShape` (the common case: no array of shapes).
    init(name: String, next: [Edge], outputShape: [Int], dtype: DType, device: Device, backward: BackwardFunction?,
         isAccumulator: Bool = false) {
        self.name = name
        self.edgeCount = 0
        self.outputCount = 1
        self.firstOutputShape = outputShape
        self.outputDType = dtype
        self.outputDevice = device
        self.backwardFn = backward
        self.isAccumulator = isAccumulator
        setEdges(next)
        AutogradState.flags.pointee.nodesCreated &+= 1
    }

    /// A node with one output and no edges yet (`record` appends them with `appendEdge`).
    init(name: String, outputShape: [Int], dtype: DType, device: Device, backward: BackwardFunction?) {
        self.name = name
        self.edgeCount = 0
        self.outputCount = 1
        self.firstOutputShape = outputShape
        self.outputDType = dtype
        self.outputDevice = device
        self.backwardFn = backward
        self.isAccumulator = false
        AutogradState.flags.pointee.nodesCreated &+= 1
    }

    /// The out-of-line fields, created if needed.
    @inline(__always) var ensuredExtras: NodeExtras {
        if let e = extras { return e }
        let e = NodeExtras()
        extras = e
        return e
    }

    // Read-only views of the out-of-line fields (empty when there are none).
    var savedRest: [Tensor] { extras?.savedRest ?? [] }
    var savedOutputs: [Tensor] { extras?.savedOutputs ?? [] }
    var outputHooks: [(Int, (Tensor) -> Tensor?)] { extras?.outputHooks ?? [] }
    var retained: [(Int, WeakTensor)] { extras?.retained ?? [] }
    /// Whether a hook or a retained gradient watches an output's gradient.
    @inline(__always) var isObserved: Bool {
        guard let e = extras else { return false }
        return !e.outputHooks.isEmpty || !e.retained.isEmpty
    }

    private func setEdges(_ edges: [Edge]) {
        if edges.count > 2 { ensuredExtras.edgesRest.reserveCapacity(edges.count - 2) }
        for e in edges { appendEdge(e) }
    }

    /// Adds the edge of the next differentiable input.
    @inline(__always) func appendEdge(_ e: Edge) {
        switch edgeCount {
        case 0: edge0 = e
        case 1: edge1 = e
        default: ensuredExtras.edgesRest.append(e)
        }
        edgeCount += 1
    }

    /// Edge `k` (of `edgeCount`).
    @inline(__always) func edge(_ k: Int) -> Edge { k == 0 ? edge0 : (k == 1 ? edge1 : extras!.edgesRest[k - 2]) }

    /// One edge per differentiable input, in the order the backward returns their gradients.
    public var next: [Edge] { (0..<edgeCount).map { edge($0) } }

    /// Keeps `tensors` for the backward and records their versions (an in-place change later is an error).
    func save(_ tensors: [Tensor]) {
        for t in tensors { save(t) }
    }

    /// Keeps one more tensor for the backward and records its version.
    @inline(__always) func save(_ t: Tensor) {
        switch savedCount {
        case 0: saved0 = t; savedVersion0 = t.storage.version
        case 1: saved1 = t; savedVersion1 = t.storage.version
        default:
            let e = ensuredExtras
            e.savedRest.append(t); e.savedVersionsRest.append(t.storage.version)
        }
        savedCount += 1
    }

    /// Saved tensor `i` (of `savedCount`); nil after the node was released.
    @inline(__always) func savedTensor(_ i: Int) -> Tensor? {
        if i == 0 { return saved0 }
        if i == 1 { return saved1 }
        guard let e = extras, i - 2 < e.savedRest.count else { return nil }
        return e.savedRest[i - 2]
    }

    /// The version saved tensor `i` had when it was saved.
    @inline(__always) func savedVersion(_ i: Int) -> Int {
        i == 0 ? savedVersion0 : (i == 1 ? savedVersion1 : extras!.savedVersionsRest[i - 2])
    }

    /// Shape of output `i`.
    func outputShape(_ i: Int) -> [Int] { i == 0 ? firstOutputShape : extras!.otherOutputShapes![i - 1] }

    /// The gradient gathered so far for output `i` during a backward pass.
    @inline(__always) func pending(_ i: Int) -> Tensor? { i == 0 ? pending0 : extras!.pendingRest[i - 1] }

    /// Adds `g` to the gradient gathered for output `i`.
    @inline(__always) func addPending(_ i: Int, _ g: Tensor) {
        if i == 0 {
            if pending0 == nil { pending0 = g } else { Node.accumulate(into: &pending0!, g) }
        } else {
            let e = extras!
            if e.pendingRest[i - 1] == nil { e.pendingRest[i - 1] = g } else { Node.accumulate(into: &e.pendingRest[i - 1]!, g) }
        }
    }

    /// `acc += g`, in place when nothing but the engine can see `acc` (as PyTorch's `InputBuffer` accumulates):
    /// the tensor and its storage uniquely referenced, no history, same dtype, shape and dense layout. Otherwise
    /// `acc = acc + g`, which records when `createGraph` is on.
    private static func accumulate(into acc: inout Tensor, _ g: Tensor) {
        let f = AutogradState.flags.pointee
        if f.gradDisabled != 0 && f.forwardLevel == 0 && !acc.requiresGradFlag && acc.meta == nil && acc.viewBase == nil
            && acc.dtype == g.dtype && Shape.same(acc.shape, g.shape) && acc.isContiguous && g.isContiguous && acc.storage !== g.storage
            && acc.storage.backend === g.storage.backend
            && isKnownUniquelyReferenced(&acc) && isKnownUniquelyReferenced(&acc.storage) {
            acc.backend.binary(.add, acc, g, out: acc)
            return
        }
        acc = acc + g
    }

    /// Clears the gathered gradients before a pass.
    @inline(__always) func resetPending() {
        pending0 = nil
        if outputCount > 1 { ensuredExtras.pendingRest = Array(repeating: nil, count: outputCount - 1) }
    }

    /// Output `i` as saved for backward, re-attached to this node so higher-order gradients flow.
    public func output(_ i: Int = 0) -> Tensor {
        let s: Tensor
        if i == 0, let s0 = savedOutput0 { s = s0 } else {
            check(i < savedOutputs.count, "\(name): output \(i) was not saved for backward")
            s = savedOutputs[i]
        }
        let t = Tensor(storage: s.storage, shape: s.shape, strides: s.strides, offset: s.offset)
        t.gradFn = self
        t.outputNr = i
        t.requiresGradFlag = true
        return t
    }

    /// Output 0 as saved for backward, without history: for a backward that only reads its values and records
    /// nothing (unlike `output(_:)`, it makes no tensor).
    @inline(__always) func savedOutputValue() -> Tensor {
        if let s = savedOutput0 { return s }
        return output(0)
    }

    /// Runs the op's backward for the given output gradients (checks saved tensors first).
    func apply(_ grads: [Tensor]) -> [Tensor?] {
        if backwardFn == nil, pairBackwardFn != nil {
            let (g0, g1) = applyPair(grads[0])
            return edgeCount == 1 ? [g0] : [g0, g1]
        }
        guard let fn = backwardFn else { Node.freedTwice(name) }
        checkSavedVersions()
        return fn(grads, self)
    }

    /// Runs a pair backward (`pairBackwardFn`) for the gradient of the one output (checks saved tensors first).
    @inline(__always) func applyPair(_ grad: Tensor) -> (Tensor?, Tensor?) {
        guard let fn = pairBackwardFn else { Node.freedTwice(name) }
        checkSavedVersions()
        return fn(grad, self)
    }

    /// Traps when a saved tensor was changed in place since it was saved.
    @inline(__always) private func checkSavedVersions() {
        if savedCount > 0 {  // most nodes of add and sub save nothing: no slot to load
            if let t = saved0, t.storage.version != savedVersion0 { Node.modifiedInPlace(name, t, savedVersion0) }
            if let t = saved1, t.storage.version != savedVersion1 { Node.modifiedInPlace(name, t, savedVersion1) }
        }
        if savedOutput0 != nil, let t = savedOutput0, t.storage.version != savedOutputVersion0 {
            Node.modifiedInPlace(name, t, savedOutputVersion0)
        }
        if let e = extras {
            for (i, t) in e.savedRest.enumerated() where t.storage.version != e.savedVersionsRest[i] {
                Node.modifiedInPlace(name, t, e.savedVersionsRest[i])
            }
            for (t, v) in zip(e.savedOutputs, e.savedOutputVersions) where t.storage.version != v { Node.modifiedInPlace(name, t, v) }
        }
    }

    private static func freedTwice(_ name: String) -> Never {
        nablaFail("\(name): trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call backward(); specify retainGraph: true if you need to backward through the graph a second time")
    }

    private static func modifiedInPlace(_ name: String, _ t: Tensor, _ v: Int) -> Never {
        nablaFail("\(name): one of the variables needed for gradient computation has been modified by an inplace operation: a tensor of shape \(t.shape) is at version \(t.storage.version); expected version \(v) instead")
    }

    /// Frees saved tensors and the backward closure (after a backward without `retainGraph`).
    func release() {
        // Only the slots in use are cleared: a store of nil into an empty slot still calls the runtime's release.
        if backwardFn != nil { backwardFn = nil }
        if pairBackwardFn != nil { pairBackwardFn = nil }
        if savedCount > 0 { saved0 = nil; saved1 = nil }
        if savedOutput0 != nil { savedOutput0 = nil }
        if let e = extras { e.savedRest = []; e.savedOutputs = [] }
        released = true
    }
}

/// The fields of a `Node` that most nodes never use, allocated on first use (as `AutogradMeta` is for tensors).
final class NodeExtras {
    /// Edges past the second.
    @exclusivity(unchecked) var edgesRest: [Edge] = []
    /// Saved tensors past the second, and their versions when saved.
    @exclusivity(unchecked) var savedRest: [Tensor] = []
    @exclusivity(unchecked) var savedVersionsRest: [Int] = []
    /// The saved outputs of a multi-output op, and their versions when saved.
    @exclusivity(unchecked) var savedOutputs: [Tensor] = []
    @exclusivity(unchecked) var savedOutputVersions: [Int] = []
    /// Shapes of the outputs after the first.
    @exclusivity(unchecked) var otherOutputShapes: [[Int]]? = nil
    /// Hooks and retained gradients of non-leaf outputs, keyed by output index.
    @exclusivity(unchecked) var outputHooks: [(Int, (Tensor) -> Tensor?)] = []
    @exclusivity(unchecked) var retained: [(Int, WeakTensor)] = []
    /// Engine scratch: the gradients gathered for the outputs after the first.
    @exclusivity(unchecked) var pendingRest: [Tensor?] = []
}

/// The node that adds incoming gradients into a leaf's `.grad`.
public final class AccumulateGrad: Node {
    /// The leaf tensor.
    let leaf: Tensor

    init(leaf: Tensor) {
        self.leaf = leaf
        super.init(name: "AccumulateGrad", next: [], outputShape: leaf.shape, dtype: leaf.dtype, device: leaf.device, backward: nil,
                   isAccumulator: true)
    }

    /// Adds `grad` (after the leaf's hooks) into the leaf's `.grad`.
    func accumulate(_ grad: Tensor, createGraph: Bool) {
        Tracer.noteGradAssigned(leaf)
        var g = grad
        if let hooks = leaf.hooks { for h in hooks { if let r = h(g) { g = r } } }
        if let old = leaf.grad {
            if createGraph || old.requiresGradFlag { leaf.grad = old + g } else { noGrad { _ = old.add_(g) } }
        } else {
            // Own the gradient's memory so later in-place updates of .grad never alias another tensor.
            leaf.grad = createGraph ? g : g.stolenOrCopied()
        }
    }
}

/// A weak reference to a tensor.
struct WeakTensor { weak var tensor: Tensor? }

extension Tensor {
    /// The edge through which a gradient reaches this tensor.
    @inline(__always) var gradEdge: Edge {
        if viewBase != nil { refreshViewHistory() }
        if let fn = gradFn { return Edge(node: fn, outputNr: outputNr) }
        if requiresGradFlag {
            if let acc = accumulatorCache { return Edge(node: acc, outputNr: 0) }
            let acc = AccumulateGrad(leaf: self)
            accumulatorCache = acc
            return Edge(node: acc, outputNr: 0)
        }
        return Edge(node: nil, outputNr: 0)
    }

    /// A history-free tensor owning its memory: the same storage when nothing else views it, else a copy.
    func stolenOrCopied() -> Tensor {
        if isContiguous && offset == 0 && isKnownUniquelyReferenced(&storage) {
            return Tensor(storage: storage, shape: shape, strides: strides, offset: 0)
        }
        return contiguousCopy()
    }
}
