import CNablaKernels

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
    /// One edge per differentiable input.
    public internal(set) var next: [Edge]
    var backwardFn: BackwardFunction?
    var saved: [Tensor] = []
    var savedVersions: [Int] = []
    var savedOutputs: [Tensor] = []
    var savedOutputVersions: [Int] = []
    /// Shapes and dtypes of the outputs, to materialise zero gradients for unused outputs.
    var outputShapes: [[Int]]
    var outputDType: DType
    var released = false
    // Hooks and retained gradients of non-leaf outputs, keyed by output index.
    var outputHooks: [(Int, (Tensor) -> Tensor?)] = []
    var retained: [(Int, WeakTensor)] = []
    // Engine scratch, valid during one backward pass.
    var pending: [Tensor?] = []
    var dependencies = 0
    var mark = 0

    init(name: String, next: [Edge], outputShapes: [[Int]], dtype: DType, backward: BackwardFunction?) {
        self.name = name
        self.next = next
        self.outputShapes = outputShapes
        self.outputDType = dtype
        self.backwardFn = backward
    }

    /// Number of outputs.
    public var outputCount: Int { outputShapes.count }

    /// Output `i` as saved for backward, re-attached to this node so higher-order gradients flow.
    public func output(_ i: Int = 0) -> Tensor {
        check(i < savedOutputs.count, "\(name): output \(i) was not saved for backward")
        let s = savedOutputs[i]
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
        for (t, v) in zip(saved, savedVersions) where t.storage.version != v { Node.modifiedInPlace(name, t, v) }
        for (t, v) in zip(savedOutputs, savedOutputVersions) where t.storage.version != v { Node.modifiedInPlace(name, t, v) }
        return fn(grads, self)
    }

    private static func modifiedInPlace(_ name: String, _ t: Tensor, _ v: Int) -> Never {
        nablaFail("\(name): one of the variables needed for gradient computation has been modified by an inplace operation: a tensor of shape \(t.shape) is at version \(t.storage.version); expected version \(v) instead")
    }

    /// Frees saved tensors and the backward closure (after a backward without `retainGraph`).
    func release() {
        backwardFn = nil
        saved = []
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
        super.init(name: "AccumulateGrad", next: [], outputShapes: [leaf.shape], dtype: leaf.dtype, backward: nil)
    }

    /// Adds `grad` (after the leaf's hooks) into the leaf's `.grad`.
    func accumulate(_ grad: Tensor, createGraph: Bool) {
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
