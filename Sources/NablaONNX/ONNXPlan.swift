import Nabla

/// A model's graph compiled for running: nodes as kernels over numbered value slots, constants folded at load.
///
/// Built once by `ONNXPlan.build`: every value name gets a slot; a node whose inputs are all known at load
/// (initializers, `Constant`s, and what follows from them) is run then and its outputs become constants, so the
/// run loop executes only what depends on the model's inputs. Slots are released after their last use.
struct ONNXPlan {
    /// One node to execute.
    struct Step {
        let kernel: ONNXKernel
        /// Slot per input; -1 for an omitted optional input.
        let inputs: [Int]
        /// Slot per output; -1 for an output nobody reads.
        let outputs: [Int]
        /// Slots whose last reader is this step (released after it).
        var release: [Int]
        /// The node's name and op type, for messages.
        let name: String
        let opType: String
        /// What the Conv epilogue fusion may do with the step (`fuseConvEpilogues`), if anything.
        var fusion: ONNXFusionRole? = nil
    }

    var steps: [Step] = []
    var slotCount = 0
    /// Values known at load time (initializers and folded results), by slot.
    var constants: [(slot: Int, value: Tensor)] = []
    /// The slot of each model input, in `inputs` order.
    var inputSlots: [Int] = []
    /// The slot of each model output, in `outputs` order.
    var outputSlots: [Int] = []
    /// How many nodes were folded at load.
    var foldedCount = 0

    /// Compiles `graph` with the given initializer values (by name) at `opset`.
    static func build(graph: Onnx_GraphProto, initializers: [String: Tensor], inputNames: [String], opset: Int,
                      decoder: inout ONNXTensorDecoder) throws(ONNXError) -> ONNXPlan {
        var plan = ONNXPlan()
        var slotOf: [String: Int] = [:]
        var known: [Int: Tensor] = [:]
        func newSlot(_ name: String) -> Int {
            let s = plan.slotCount
            plan.slotCount += 1
            slotOf[name] = s
            return s
        }
        for name in inputNames { plan.inputSlots.append(newSlot(name)) }
        for (name, t) in initializers where slotOf[name] == nil { known[newSlot(name)] = t }
        var pending: [Step] = []
        for (index, node) in graph.node.enumerated() {
            let name = node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
            var slots: [Int] = [], constants: [Tensor?] = [], present: [Bool] = []
            for i in node.input {
                if i.isEmpty { slots.append(-1); constants.append(nil); present.append(false); continue }
                guard let s = slotOf[i] else {
                    throw .malformed(path: "", reason: "node '\(name)' (\(node.opType)) reads '\(i)', which no earlier node, input or initializer defines")
                }
                slots.append(s); constants.append(known[s]); present.append(true)
            }
            var attributes: [String: Onnx_AttributeProto] = [:]
            for a in node.attribute { attributes[a.name] = a }
            let ctx = ONNXNodeContext(name: name, opType: node.opType, opset: opset, attributes: attributes,
                                      constants: constants, present: present, outputCount: node.output.count)
            let kernel = try buildKernel(ctx, domain: node.domain) { (key: String) throws(ONNXError) -> Tensor? in
                guard let a = attributes[key] else { return nil }
                guard a.hasT else { throw ctx.invalid("attribute '\(key)' must be a tensor") }
                return try decoder.tensor(a.t, name: "\(name).\(key)")
            }
            let outSlots = node.output.map { $0.isEmpty ? -1 : newSlot($0) }
            let foldable = zip(slots, constants).allSatisfy { $0.0 == -1 || $0.1 != nil }
            if foldable {
                let values: [Tensor]
                do { values = try noGrad { try kernel(constants) } } catch let e as ONNXError { throw e } catch {
                    throw ctx.invalid("\(error)")
                }
                guard values.count >= outSlots.filter({ $0 >= 0 }).count else { throw ctx.invalid("produced too few outputs") }
                for (s, v) in zip(outSlots, values) where s >= 0 { known[s] = v }
                plan.foldedCount += 1
                continue
            }
            var fusion: ONNXFusionRole?
            if let conv = try ONNXPreparedConv(ctx) { fusion = .conv(conv) } else if try isFusableMaxPool2x2(ctx) { fusion = .maxPool2x2 }
            pending.append(Step(kernel: kernel, inputs: slots, outputs: outSlots, release: [], name: name, opType: node.opType,
                                fusion: fusion))
        }
        for o in graph.output {
            guard let s = slotOf[o.name] else { throw .malformed(path: "", reason: "graph output '\(o.name)' is never computed") }
            plan.outputSlots.append(s)
        }
        pending = fuseConvEpilogues(pending, outputs: Set(plan.outputSlots))
        pending = fuseActivations(pending, outputs: Set(plan.outputSlots))
        // Release each computed slot after its last reader (never the outputs' slots, never constants).
        var lastUse: [Int: Int] = [:]
        for (i, step) in pending.enumerated() { for s in step.inputs where s >= 0 && known[s] == nil { lastUse[s] = i } }
        for s in plan.outputSlots + plan.inputSlots { lastUse[s] = nil }
        for (s, i) in lastUse { pending[i].release.append(s) }
        plan.steps = pending
        plan.constants = known.sorted { $0.key < $1.key }.map { (slot: $0.key, value: $0.value) }
        return plan
    }

    /// Folds a `Relu` into the node that makes its input (Conv, Gemm, MatMul, Add, BatchNormalization) when the Relu
    /// is that value's only reader: the producer's fresh output is rectified in place when it records no gradient
    /// (inference), saving a pass over memory and an allocation; with autograd on, the out-of-place `relu` runs.
    private static func fuseActivations(_ steps: [Step], outputs: Set<Int>) -> [Step] {
        let producers: Set<String> = ["Conv", "Gemm", "MatMul", "Add", "BatchNormalization"]
        var readers: [Int: Int] = [:]
        for step in steps { for s in step.inputs where s >= 0 { readers[s, default: 0] += 1 } }
        var producerOf: [Int: Int] = [:]
        for (i, step) in steps.enumerated() { for s in step.outputs where s >= 0 { producerOf[s] = i } }
        var result = steps
        var removed = Set<Int>()
        for (i, step) in steps.enumerated() where step.opType == "Relu" && step.inputs.count == 1 {
            let s = step.inputs[0]
            guard s >= 0, readers[s] == 1, !outputs.contains(s), let j = producerOf[s], !removed.contains(j),
                  producers.contains(result[j].opType), result[j].outputs.first == s, result[j].outputs.count == 1 else { continue }
            let inner = result[j].kernel
            let fused: ONNXKernel = { xs in
                var out = try inner(xs)
                let t = out[0]
                out[0] = t.requiresGrad || !t.dtype.isFloatingPoint ? relu(t) : t.relu_()
                return out
            }
            result[j] = Step(kernel: fused, inputs: result[j].inputs, outputs: step.outputs, release: [],
                             name: result[j].name, opType: result[j].opType + "+Relu")
            removed.insert(i)
        }
        return result.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Runs the plan on input values given per input slot, returning the output values.
    func run(_ inputValues: [Tensor]) throws -> [Tensor] {
        var env = [Tensor?](repeating: nil, count: slotCount)
        for (slot, value) in constants { env[slot] = value }
        for (slot, value) in zip(inputSlots, inputValues) { env[slot] = value }
        var args: [Tensor?] = []
        for step in steps {
            args.removeAll(keepingCapacity: true)
            for s in step.inputs { args.append(s >= 0 ? env[s] : nil) }
            let outs = try step.kernel(args)
            for (k, s) in step.outputs.enumerated() where s >= 0 {
                guard k < outs.count else {
                    throw ONNXError.invalidNode(node: step.name, opType: step.opType, reason: "output \(k) is not produced")
                }
                env[s] = outs[k]
            }
            for s in step.release { env[s] = nil }
        }
        return try outputSlots.map { s throws(ONNXError) -> Tensor in
            guard let t = env[s] else { throw ONNXError.malformed(path: "", reason: "an output was not computed") }
            return t
        }
    }
}
