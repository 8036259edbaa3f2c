/// How many autograd nodes the calling thread has made so far: the proof, in tests, that a compiled run records none.
public func autogradNodesCreated() -> Int { AutogradState.flags.pointee.nodesCreated }


/// The backward function of a recorded op: output gradients in, one gradient per input out
/// (nil where an input needs none). Written with Tensor ops, so it is itself differentiable.
public typealias BackwardFunction = (_ grads: [Tensor], _ node: Node) -> [Tensor?]

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
    @exclusivity(unchecked) var edgesRest: [Edge] = []
    @exclusivity(unchecked) var backwardFn: BackwardFunction?
    // The saved tensors and their versions when they were saved, the first two inline as the edges are.
    @exclusivity(unchecked) var savedCount = 0
    @exclusivity(unchecked) var saved0: Tensor? = nil
    @exclusivity(unchecked) var saved1: Tensor? = nil
    @exclusivity(unchecked) var savedRest: [Tensor] = []
    @exclusivity(unchecked) var savedVersion0 = 0
    @exclusivity(unchecked) var savedVersion1 = 0
    @exclusivity(unchecked) var savedVersionsRest: [Int] = []
    /// A scalar operand the backward needs (`x * 2.0`), kept here so the backward closure captures nothing.
    @exclusivity(unchecked) var savedScalar: Double = 0
    // A single-output op's saved output (`relu`, `tanh`, `exp`) inline; several outputs in the arrays.
    @exclusivity(unchecked) var savedOutput0: Tensor? = nil
    @exclusivity(unchecked) var savedOutputVersion0 = 0
    @exclusivity(unchecked) var savedOutputs: [Tensor] = []
    @exclusivity(unchecked) var savedOutputVersions: [Int] = []
    /// Number of outputs.
    public let outputCount: Int
    /// Shape of the first output, and of the others when there are several: to materialise zero gradients
    /// for unused outputs. Kept apart so a single-output node allocates no array of shapes.
    let firstOutputShape: [Int]
    @exclusivity(unchecked) var otherOutputShapes: [[Int]]? = nil
    @exclusivity(unchecked) var outputDType: DType
    /// The device of the outputs (where missing output gradients are made as zeros).
    @exclusivity(unchecked) var outputDevice: Device
    /// Whether this is an `AccumulateGrad` (checked by the engine without a dynamic cast).
    let isAccumulator: Bool
    @exclusivity(unchecked) var released = false
    // Hooks and retained gradients of non-leaf outputs, keyed by output index.
    @exclusivity(unchecked) var outputHooks: [(Int, (Tensor) -> Tensor?)] = []
    @exclusivity(unchecked) var retained: [(Int, WeakTensor)] = []
    // Engine scratch, valid during one backward pass: the gradient gathered for output 0, and for the others.
    @exclusivity(unchecked) var pending0: Tensor? = nil
    @exclusivity(unchecked) var pendingRest: [Tensor?] = []
    @exclusivity(unchecked) var dependencies = 0
    @exclusivity(unchecked) var mark = 0

    init(name: String, next: [Edge], outputShapes: [[Int]], dtype: DType, device: Device, backward: BackwardFunction?,
         isAccumulator: Bool = false) {
        self.name = name
        self.edgeCount = 0
        self.outputCount = outputShapes.count
        self.firstOutputShape = outputShapes.first ?? []
        if outputShapes.count > 1 { self.otherOutputShapes = Array(outputShapes.dropFirst()) }
        self.outputDType = dtype
        self.outputDevice = device
        self.backwardFn = backward
        self.isAccumulator = isAccumulator
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

    private func setEdges(_ edges: [Edge]) {
        if edges.count > 2 { edgesRest.reserveCapacity(edges.count - 2) }
        for e in edges { appendEdge(e) }
    }

    /// Adds the edge of the next differentiable input.
    @inline(__always) func appendEdge(_ e: Edge) {
        switch edgeCount {
        case 0: edge0 = e
        case 1: edge1 = e
        default: edgesRest.append(e)
        }
        edgeCount += 1
    }

    /// Edge `k` (of `edgeCount`).
    @inline(__always) func edge(_ k: Int) -> Edge { k == 0 ? edge0 : (k == 1 ? edge1 : edgesRest[k - 2]) }

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
        default: savedRest.append(t); savedVersionsRest.append(t.storage.version)
        }
        savedCount += 1
    }

    /// Saved tensor `i` (of `savedCount`); nil after the node was released.
    @inline(__always) func savedTensor(_ i: Int) -> Tensor? {
        i == 0 ? saved0 : (i == 1 ? saved1 : (i - 2 < savedRest.count ? savedRest[i - 2] : nil))
    }

    /// The version saved tensor `i` had when it was saved.
    @inline(__always) func savedVersion(_ i: Int) -> Int {
        i == 0 ? savedVersion0 : (i == 1 ? savedVersion1 : savedVersionsRest[i - 2])
    }

    /// Shape of output `i`.
    func outputShape(_ i: Int) -> [Int] { i == 0 ? firstOutputShape : otherOutputShapes![i - 1] }

    /// The gradient gathered so far for output `i` during a backward pass.
    @inline(__always) func pending(_ i: Int) -> Tensor? { i == 0 ? pending0 : pendingRest[i - 1] }

    /// Adds `g` to the gradient gathered for output `i`.
    @inline(__always) func addPending(_ i: Int, _ g: Tensor) {
        if i == 0 {
            if pending0 == nil { pending0 = g } else { Node.accumulate(into: &pending0!, g) }
        } else {
            if pendingRest[i - 1] == nil { pendingRest[i - 1] = g } else { Node.accumulate(into: &pendingRest[i - 1]!, g) }
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
        if outputCount > 1 { pendingRest = Array(repeating: nil, count: outputCount - 1) }
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

    /// Runs the op's backward for the given output gradients (checks saved tensors first).
    func apply(_ grads: [Tensor]) -> [Tensor?] {
        guard let fn = backwardFn else {
            nablaFail("\(name): trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call backward(); specify retainGraph: true if you need to backward through the graph a second time")
        }
        if let t = saved0, t.storage.version != savedVersion0 { Node.modifiedInPlace(name, t, savedVersion0) }
        if let t = saved1, t.storage.version != savedVersion1 { Node.modifiedInPlace(name, t, savedVersion1) }
        for (i, t) in savedRest.enumerated() where t.storage.version != savedVersionsRest[i] {
            Node.modifiedInPlace(name, t, savedVersionsRest[i])
        }
        if let t = savedOutput0, t.storage.version != savedOutputVersion0 { Node.modifiedInPlace(name, t, savedOutputVersion0) }
        for (t, v) in zip(savedOutputs, savedOutputVersions) where t.storage.version != v { Node.modifiedInPlace(name, t, v) }
        return fn(grads, self)
    }

    private static func modifiedInPlace(_ name: String, _ t: Tensor, _ v: Int) -> Never {
        nablaFail("\(name): one of the variables needed for gradient computation has been modified by an inplace operation: a tensor of shape \(t.shape) is at version \(t.storage.version); expected version \(v) instead")
    }

    /// Frees saved tensors and the backward closure (after a backward without `retainGraph`).
    func release() {
        backwardFn = nil
        saved0 = nil
        saved1 = nil
        savedRest = []
        savedOutput0 = nil
        savedOutputs = []
        released = true
    }
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
