import Nabla

// ONNX LSTM (layout 0: X [T, B, F]) run by Nabla's whole-sequence recurrent op. ONNX orders the gates i, o, f, c;
// Nabla (as PyTorch) i, f, g, o: constant weights are reordered once at load.

/// Reorders the gate blocks of `t` along dim `dim` from ONNX's (i, o, f, c) to PyTorch's (i, f, c, o).
private func onnxGatesToTorch(_ t: Tensor, dim: Int) -> Tensor {
    let g = t.chunk(4, dim: dim)
    return cat([g[0], g[2], g[3], g[1]], dim: dim).contiguous()
}

/// Builds the LSTM kernel.
func lstmKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel? {
    guard ctx.opType == "LSTM" else { return nil }
    try ctx.requireInputs(3)
    let hidden = try ctx.int("hidden_size", 0)
    let direction = try ctx.string("direction", "forward")
    guard ["forward", "reverse", "bidirectional"].contains(direction) else { throw ctx.invalid("unknown direction '\(direction)'") }
    guard try ctx.int("layout", 0) == 0 else { throw ctx.invalid("layout = 1 is not supported") }
    guard try ctx.int("input_forget", 0) == 0 else { throw ctx.invalid("input_forget = 1 is not supported") }
    guard ctx.attributes["clip"] == nil else { throw ctx.invalid("the clip attribute is not supported") }
    if let acts = try ctx.strings("activations"), !acts.isEmpty {
        let standard = ["Sigmoid", "Tanh", "Tanh"]
        guard acts.count % 3 == 0, (0..<acts.count).allSatisfy({ acts[$0] == standard[$0 % 3] }) else {
            throw ctx.invalid("activations \(acts) are not supported (only Sigmoid, Tanh, Tanh)")
        }
    }
    guard ctx.constants.count <= 4 || !ctx.has(4) || ctx.constants[4] != nil else {
        throw ctx.invalid("a computed sequence_lens input is not supported")
    }
    if ctx.has(7) { throw ctx.invalid("the peephole input P is not supported") }
    let nd = direction == "bidirectional" ? 2 : 1
    guard let w = ctx.constants[1], let r = ctx.constants[2] else {
        throw ctx.invalid("W and R must be constants (initializers)")
    }
    guard w.rank == 3, r.rank == 3, w.shape[0] == nd, r.shape[0] == nd, w.shape[1] == 4 * hidden,
          r.shape[1] == 4 * hidden, r.shape[2] == hidden, w.dtype.isFloatingPoint, r.dtype == w.dtype else {
        throw ctx.invalid("W \(w.shape) and R \(r.shape) do not match hidden_size \(hidden) and \(nd) direction(s)")
    }
    var biases: Tensor?
    if ctx.has(3) {
        guard let b = ctx.constants[3], b.shape == [nd, 8 * hidden] else { throw ctx.invalid("B must be a constant [\(nd), \(8 * hidden)]") }
        biases = b
    }
    // Per direction: (wih, whh, bih, bhh) in PyTorch's gate order.
    let weights: [(Tensor, Tensor, Tensor?, Tensor?)] = (0..<nd).map { d in
        let b = biases?.select(0, d).chunk(2, dim: 0)
        return (onnxGatesToTorch(w.select(0, d), dim: 0), onnxGatesToTorch(r.select(0, d), dim: 0),
                b.map { onnxGatesToTorch($0[0], dim: 0) }, b.map { onnxGatesToTorch($0[1], dim: 0) })
    }
    let seqLens = ctx.constants.count > 4 ? ctx.constants[4] : nil
    let features = w.shape[2]
    return { xs in
        let x = try input(xs, 0, ctx)
        guard x.rank == 3, x.shape[2] == features, x.dtype == w.dtype else {
            throw ctx.invalid("X of \(x.dtype) \(x.shape) does not match [T, B, \(features)] of \(w.dtype)")
        }
        let steps = x.shape[0], batch = x.shape[1]
        if let s = seqLens, !s.toIntArray().allSatisfy({ $0 == steps }) {
            throw ctx.invalid("sequence_lens shorter than the sequence are not supported")
        }
        func state(_ i: Int, _ what: String) throws -> Tensor? {
            guard i < xs.count, let t = xs[i] else { return nil }
            guard t.shape == [nd, batch, hidden] else { throw ctx.invalid("\(what) has shape \(t.shape), expected [\(nd), \(batch), \(hidden)]") }
            return t
        }
        let h0 = try state(5, "initial_h"), c0 = try state(6, "initial_c")
        var ys: [Tensor] = [], hs: [Tensor] = [], cs: [Tensor] = []
        for d in 0..<nd {
            let (wih, whh, bih, bhh) = weights[d]
            let zero = Tensor.zeros([batch, hidden], dtype: x.dtype)
            let inputs = RecurrentSequenceInputs(
                mode: .lstm, x: x, wih: wih, whh: whh, bih: bih, bhh: bhh,
                h0: h0?.select(0, d).contiguous() ?? zero, c0: c0?.select(0, d).contiguous() ?? zero,
                reverse: direction == "reverse" || d == 1, zeroState: h0 == nil && c0 == nil)
            let out = recurrentSequence(inputs)
            ys.append(out.output.unsqueeze(1)); hs.append(out.h.unsqueeze(0))
            if let c = out.c { cs.append(c.unsqueeze(0)) }
        }
        let y = nd == 1 ? ys[0] : cat(ys, dim: 1)
        let yh = nd == 1 ? hs[0] : cat(hs, dim: 0)
        let yc = nd == 1 ? cs[0] : cat(cs, dim: 0)
        return [y, yh, yc]
    }
}
