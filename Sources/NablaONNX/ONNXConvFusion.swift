import Nabla

// Conv nodes with constant weights run as prepared inference convolutions (`PreparedConv2d`: weights packed once at
// load), and a Relu and a 2x2 MaxPool that read only the Conv's output are fused into its kernel
// (`ConvEpilogue`), as onnxruntime fuses Conv + activation and runs its convolutions on pre-packed weights.

/// A Conv node whose weight (and bias) are constants: 2-D, group 1, symmetric explicit pads.
struct ONNXPreparedConv {
    let prepared: PreparedConv2d
    let stride: [Int], padding: [Int], dilation: [Int]

    /// The prepared form of the Conv node `ctx`, or nil when it does not qualify (computed weights, groups,
    /// `auto_pad` other than NOTSET/VALID, asymmetric pads, 1-D): such nodes keep their general kernel.
    init?(_ ctx: ONNXNodeContext) throws(ONNXError) {
        guard ctx.opType == "Conv", let w = ctx.constants.count > 1 ? ctx.constants[1] : nil, w.rank == 4,
              w.dtype.isFloatingPoint, w.count > 0, try ctx.int("group", 1) == 1 else { return nil }
        var bias: Tensor?
        if ctx.has(2) {
            guard let b = ctx.constants.count > 2 ? ctx.constants[2] : nil, b.shape == [w.shape[0]], b.dtype == w.dtype,
                  b.device == w.device else { return nil }
            bias = b
        }
        let autoPad = try ctx.string("auto_pad", "NOTSET")
        let kernel = Array(w.shape[2...])
        guard try (ctx.ints("kernel_shape") ?? kernel) == kernel else { return nil }
        let s = try ctx.ints("strides") ?? [1, 1], d = try ctx.ints("dilations") ?? [1, 1]
        guard s.count == 2, d.count == 2, s.allSatisfy({ $0 > 0 }), d.allSatisfy({ $0 > 0 }) else { return nil }
        var p = [0, 0]
        switch autoPad {
        case "NOTSET", "":
            let pads = try ctx.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }), pads[0] == pads[2], pads[1] == pads[3] else { return nil }
            p = [pads[0], pads[1]]
        case "VALID": break
        default: return nil
        }
        prepared = PreparedConv2d(weight: w, bias: bias)
        stride = s; padding = p; dilation = d
    }

    /// The convolution of `x` with `epilogue` fused, or nil when `x` is not an input this form takes (wrong rank,
    /// dtype, device or channels, too small for the kernel or the pool): the node's general kernels then run and
    /// report the problem as they always have.
    func run(_ x: Tensor, epilogue: ConvEpilogue) -> Tensor? {
        let w = prepared.weight
        guard x.rank == 4, x.dtype == w.dtype, x.device == w.device, x.shape[1] == w.shape[1] else { return nil }
        let effH = dilation[0] * (w.shape[2] - 1) + 1, effW = dilation[1] * (w.shape[3] - 1) + 1
        let ph = x.shape[2] + 2 * padding[0], pw = x.shape[3] + 2 * padding[1]
        guard ph >= effH, pw >= effW else { return nil }
        if epilogue.maxPool2x2 {
            guard (ph - effH) / stride[0] + 1 >= 2, (pw - effW) / stride[1] + 1 >= 2 else { return nil }
        }
        return conv2d(x, prepared: prepared, stride: SpatialSize(stride), padding: SpatialSize(padding),
                      dilation: SpatialSize(dilation), epilogue: epilogue)
    }
}

/// Whether a MaxPool node is a plain 2x2 pool with stride 2 (no pads, no dilation, floor mode, one output): the
/// pool a Conv's kernel can apply itself.
func isFusableMaxPool2x2(_ ctx: ONNXNodeContext) throws(ONNXError) -> Bool {
    guard ctx.opType == "MaxPool", ctx.outputCount == 1, try ctx.ints("kernel_shape") == [2, 2],
          try ctx.ints("strides") == [2, 2], try ctx.int("ceil_mode", 0) == 0 else { return false }
    let autoPad = try ctx.string("auto_pad", "NOTSET")
    guard autoPad == "NOTSET" || autoPad == "" || autoPad == "VALID" else { return false }
    guard try (ctx.ints("pads") ?? [0, 0, 0, 0]).allSatisfy({ $0 == 0 }) else { return false }
    return try (ctx.ints("dilations") ?? [1, 1]) == [1, 1]
}

/// What the epilogue fusion needs to know of a step.
enum ONNXFusionRole {
    /// A Conv with constant weights.
    case conv(ONNXPreparedConv)
    /// A MaxPool that `isFusableMaxPool2x2` accepts.
    case maxPool2x2
}

extension ONNXPlan {
    /// Fuses each prepared Conv with the Relu and then the 2x2 MaxPool that follow it, when each is its producer's
    /// only reader and no intermediate value is a graph output: one step whose kernel runs the fused convolution, or,
    /// for an input the fused form does not take, the original kernels one after the other.
    static func fuseConvEpilogues(_ steps: [Step], outputs: Set<Int>) -> [Step] {
        var readers: [Int: [Int]] = [:]
        for (i, step) in steps.enumerated() { for s in step.inputs where s >= 0 { readers[s, default: []].append(i) } }
        /// The step that alone reads `slot`, when it is not a graph output.
        func soleReader(_ slot: Int) -> Int? {
            guard slot >= 0, !outputs.contains(slot), let r = readers[slot], r.count == 1 else { return nil }
            return r[0]
        }
        var result = steps
        var removed = Set<Int>()
        for (i, step) in steps.enumerated() {
            guard case .conv(let conv)? = step.fusion, step.outputs.count == 1, let out = step.outputs.first else { continue }
            var chain: [Int] = [], epilogue = ConvEpilogue.none, last = out
            if let r = soleReader(last), steps[r].opType == "Relu", steps[r].inputs.count == 1, steps[r].outputs.count == 1 {
                chain.append(r); epilogue.relu = true; last = steps[r].outputs[0]
            }
            if let r = soleReader(last), case .maxPool2x2? = steps[r].fusion, steps[r].inputs.first == last,
               steps[r].outputs.count == 1 {
                chain.append(r); epilogue.maxPool2x2 = true; last = steps[r].outputs[0]
            }
            let kernels = [step.kernel] + chain.map { steps[$0].kernel }
            let fused: ONNXKernel = { xs in
                if let x = xs.first ?? nil, let y = conv.run(x, epilogue: epilogue) { return [y] }
                var values = try kernels[0](xs)
                for k in kernels.dropFirst() { values = try k([values[0]]) }
                return values
            }
            let name = ([step.opType] + chain.map { steps[$0].opType }).joined(separator: "+")
            result[i] = Step(kernel: fused, inputs: step.inputs, outputs: [last], release: [], name: step.name, opType: name)
            removed.formUnion(chain)
        }
        return result.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }
}
