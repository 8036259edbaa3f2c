// Multi-layer recurrent layers over whole sequences: RNN, LSTM, GRU (torch.nn.RNN, LSTM, GRU).
//
// Speed: an LSTM without projections on CPU runs each direction as one fused op (RecurrentFused.swift).
// Otherwise the input projection of every time step is ONE matmul before the loop; each step is one
// matmul with the recurrent weights, one add, and one fused element-wise op (LSTM) or a few (GRU, RNN).

/// The shared machinery of `RNN`, `LSTM` and `GRU` (PyTorch's `RNNBase`): arguments, weights named as
/// PyTorch's `state_dict` (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `weight_hr_l0`,
/// `..._reverse`), and the time loop.
public class RNNBase: Module {
    /// Which recurrence the layer runs.
    public enum Mode: Sendable {
        /// Elman RNN with tanh.
        case rnnTanh
        /// Elman RNN with relu.
        case rnnRelu
        /// Long short-term memory.
        case lstm
        /// Gated recurrent unit.
        case gru
    }
    /// Which recurrence the layer runs.
    public let mode: Mode
    /// Features of the input.
    public let inputSize: Int
    /// Features of the hidden state (the cell state, for an LSTM with projections).
    public let hiddenSize: Int
    /// Number of stacked layers.
    public let numLayers: Int
    /// Whether the layers have biases.
    public let bias: Bool
    /// Whether input and output are `[batch, seq, feature]` (else `[seq, batch, feature]`).
    public let batchFirst: Bool
    /// Dropout probability on the outputs of every layer but the last, in training mode.
    public let dropout: Double
    /// Whether each layer also runs backwards in time (outputs concatenated on the feature dim).
    public let bidirectional: Bool
    /// Size of the LSTM's projected hidden state (`proj_size`), 0 for none.
    public let projSize: Int
    /// Weights per layer and direction, in PyTorch's order: `weight_ih`, `weight_hh`, [`bias_ih`, `bias_hh`], [`weight_hr`].
    public private(set) var allWeights: [[Tensor]]
    private let weightNames: [[String]]

    /// Number of directions (2 when bidirectional).
    public var numDirections: Int { bidirectional ? 2 : 1 }
    /// Features of the output per direction (`projSize` when set, else `hiddenSize`).
    public var outputSize: Int { projSize > 0 ? projSize : hiddenSize }
    private var gateCount: Int { mode == .lstm ? 4 : mode == .gru ? 3 : 1 }

    /// Creates the layer with PyTorch's initialisation (every weight uniform on ±1/√hiddenSize).
    public init(mode: Mode, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0, dtype: DType = .float32) {
        let name = RNNBase.name(mode)
        check(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
              "\(name): inputSize (\(inputSize)), hiddenSize (\(hiddenSize)) and numLayers (\(numLayers)) must be positive")
        check(dropout >= 0 && dropout <= 1, "\(name): dropout should be a number in range [0, 1], got \(dropout)")
        check(projSize >= 0 && projSize < hiddenSize || projSize == 0,
              "\(name): projSize (\(projSize)) has to be a positive integer smaller than hiddenSize (\(hiddenSize))")
        check(projSize == 0 || mode == .lstm, "\(name): projSize is supported only by LSTM")
        self.mode = mode; self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.numLayers = numLayers
        self.bias = bias; self.batchFirst = batchFirst; self.dropout = dropout; self.bidirectional = bidirectional
        self.projSize = projSize
        let gates = mode == .lstm ? 4 : mode == .gru ? 3 : 1
        let k = 1 / Double(hiddenSize).squareRoot()
        let realHidden = projSize > 0 ? projSize : hiddenSize
        var weights: [[Tensor]] = [], names: [[String]] = []
        for layer in 0..<numLayers {
            for dir in 0..<(bidirectional ? 2 : 1) {
                let inSize = layer == 0 ? inputSize : realHidden * (bidirectional ? 2 : 1)
                let sfx = "_l\(layer)" + (dir == 1 ? "_reverse" : "")
                var w = [uniformParameter([gates * hiddenSize, inSize], bound: k, dtype: dtype),
                         uniformParameter([gates * hiddenSize, realHidden], bound: k, dtype: dtype)]
                var n = ["weight_ih" + sfx, "weight_hh" + sfx]
                if bias {
                    w += [uniformParameter([gates * hiddenSize], bound: k, dtype: dtype),
                          uniformParameter([gates * hiddenSize], bound: k, dtype: dtype)]
                    n += ["bias_ih" + sfx, "bias_hh" + sfx]
                }
                if projSize > 0 { w.append(uniformParameter([projSize, hiddenSize], bound: k, dtype: dtype)); n.append("weight_hr" + sfx) }
                weights.append(w); names.append(n)
            }
        }
        allWeights = weights; weightNames = names
        super.init()
    }

    static func name(_ mode: Mode) -> String { mode == .lstm ? "LSTM" : mode == .gru ? "GRU" : "RNN" }

    /// The weights under PyTorch's `state_dict` names, in PyTorch's order.
    public override func namedDirectTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (ws, ns) in zip(allWeights, weightNames) { for (w, n) in zip(ws, ns) { out.append((n, w)) } }
        return out
    }

    /// Runs the whole stack. `h0`: `[L·D, B, outputSize]`, `c0` (LSTM): `[L·D, B, hiddenSize]`, both optional
    /// (2-D for unbatched input). Returns the output sequence and the final `hN` (and `cN` for an LSTM).
    func run(_ input: Tensor, h0: Tensor?, c0: Tensor?) -> (Tensor, Tensor, Tensor?) {
        let name = RNNBase.name(mode)
        check((input.rank == 2 || input.rank == 3) && input.shape[input.rank - 1] == inputSize,
              "\(name): expected input of shape [seq, batch, \(inputSize)]\(batchFirst ? " (batchFirst: [batch, seq, \(inputSize)])" : "") or unbatched [seq, \(inputSize)], got \(input.shape)")
        let unbatched = input.rank == 2
        // Time-major [T, B, F] view.
        let x0 = unbatched ? input.unsqueeze(1) : (batchFirst ? input.transpose(0, 1) : input)
        let batch = x0.shape[1], states = numLayers * numDirections
        func initial(_ s: Tensor?, _ size: Int, _ what: String) -> [Tensor] {
            guard let s else {
                let z = Tensor.zeros([batch, size], dtype: input.dtype, device: input.device)
                return Array(repeating: z, count: states)
            }
            let expected = unbatched ? [states, size] : [states, batch, size]
            check(s.shape == expected, "\(name): expected \(what) of shape \(expected), got \(s.shape)")
            return (unbatched ? s.unsqueeze(1) : s).unbind(dim: 0)
        }
        let hs = initial(h0, outputSize, "hidden state h0")
        let cs = mode == .lstm ? initial(c0, hiddenSize, "cell state c0") : []
        var x = x0
        var hN: [Tensor] = [], cN: [Tensor] = []
        for layer in 0..<numLayers {
            var outs: [Tensor] = []
            for dir in 0..<numDirections {
                let idx = layer * numDirections + dir
                let (o, h, c) = runDirection(x, allWeights[idx], h: hs[idx], c: mode == .lstm ? cs[idx] : nil, reverse: dir == 1,
                                             zeroState: h0 == nil && c0 == nil)
                outs.append(o); hN.append(h)
                if let c { cN.append(c) }
            }
            x = outs.count == 1 ? outs[0] : cat(outs, dim: -1)
            if layer < numLayers - 1 && dropout > 0 && training { x = Nabla.dropout(x, p: dropout, training: true) }
        }
        var output = x
        var h = stack(hN, dim: 0), c = mode == .lstm ? stack(cN, dim: 0) : nil
        if unbatched {
            output = output.squeeze(1); h = h.squeeze(1); c = c?.squeeze(1)
        } else if batchFirst {
            // A [B, T, H] view of the time-major result, as PyTorch returns it (not contiguous): no copy of the
            // whole sequence when, as in classifiers on the last hidden state, nothing reads it.
            output = output.transpose(0, 1)
        }
        return (output, h, c)
    }

    /// `x [T, B, F]` (any strides) `@ weightᵀ + bias` as one 2-D matmul → `[T, B, G]`, contiguous (so each step's
    /// slice is contiguous too; copying `x` to time-major first is cheap next to the projection).
    private func projectSequence(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        let t = x.shape[0], b = x.shape[1], f = x.shape[2]
        return recurrentLinear(x.contiguous().reshape([t * b, f]), weight, bias).reshape([t, b, weight.shape[0]])
    }

    /// One direction of one layer: returns the outputs `[T, B, outputSize]` and the final `h` (and `c`).
    private func runDirection(_ x: Tensor, _ w: [Tensor], h hInit: Tensor, c cInit: Tensor?, reverse: Bool,
                              zeroState: Bool) -> (Tensor, Tensor, Tensor?) {
        let wih = w[0], whh = w[1]
        let bih: Tensor? = bias ? w[2] : nil, bhh: Tensor? = bias ? w[3] : nil
        let whr: Tensor? = projSize > 0 ? w[w.count - 1] : nil
        let steps = x.shape[0]
        let weights = [x, wih, whh, hInit] + (cInit.map { [$0] } ?? []) + w[2...].map { $0 }
        if whr == nil && recurrentSequenceApplies(weights) {
            let kind: RecurrentMode
            switch mode {
            case .lstm: kind = .lstm
            case .gru: kind = .gru
            case .rnnTanh: kind = .rnnTanh
            case .rnnRelu: kind = .rnnRelu
            }
            let r = recurrentSequence(RecurrentSequenceInputs(mode: kind, x: x, wih: wih, whh: whh, bih: bih, bhh: bhh, h0: hInit,
                                                              c0: cInit, reverse: reverse, zeroState: zeroState))
            return (r.output, r.h, r.c)
        }
        // GRU keeps b_hh inside the step (b_hn sits inside r ⊙ (...)); the others fold both biases into the projection.
        let inBias: Tensor? = mode == .gru ? bih : (bih.map { b in bhh.map { b + $0 } ?? b })
        let xs = timeSteps(projectSequence(x, wih, inBias))
        let whhT = whh.t()
        var h = hInit, c = cInit
        var outs = [Tensor?](repeating: nil, count: steps)
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            switch mode {
            case .lstm:
                let gates = xs[t] + matmul(h, whhT)
                let r = lstmCell(gates, c!)
                c = r.c
                h = whr.map { matmul(r.h, $0.t()) } ?? r.h
            case .gru:
                h = gruStep(xs[t], h, whh, bhh)
            case .rnnTanh:
                h = (xs[t] + matmul(h, whhT)).tanh()
            case .rnnRelu:
                h = (xs[t] + matmul(h, whhT)).relu()
            }
            outs[t] = h
        }
        return (stack(outs.map { $0! }, dim: 0), h, c)
    }

    /// `28, 128, num_layers=2, batch_first=True`, as PyTorch prints it.
    public override var extraDescription: String {
        var s = "\(inputSize), \(hiddenSize)"
        if projSize != 0 { s += ", proj_size=\(projSize)" }
        if numLayers != 1 { s += ", num_layers=\(numLayers)" }
        if !bias { s += ", bias=False" }
        if batchFirst { s += ", batch_first=True" }
        if dropout != 0 { s += ", dropout=\(dropout)" }
        if bidirectional { s += ", bidirectional=True" }
        return s
    }
}

/// A multi-layer Elman RNN `hₜ = tanh(xₜ Wᵢₕᵀ + bᵢₕ + hₜ₋₁ Wₕₕᵀ + bₕₕ)`, as `torch.nn.RNN`.
///
/// ```swift
/// let rnn = RNN(10, 20, numLayers: 2)
/// let (out, hN) = rnn(Tensor.randn([5, 3, 10]), nil)   // out [5, 3, 20], hN [2, 3, 20]
/// ```
public final class RNN: RNNBase {
    /// Creates the layer (`nonlinearity` `.tanh` or `.relu`) with PyTorch's initialisation.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32) {
        super.init(mode: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize,
                   numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype)
    }

    /// The output sequence from a zero initial state.
    public override func forward(_ input: Tensor) -> Tensor { run(input, h0: nil, c0: nil).0 }

    /// `(output, hN)` from `input` and the initial state `hx` (`[numLayers·D, B, hiddenSize]`, zeros when nil).
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?) -> (Tensor, Tensor) {
        let r = run(input, h0: hx, c0: nil)
        return (r.0, r.1)
    }
}

/// A multi-layer long short-term memory, as `torch.nn.LSTM` (gates i, f, g, o; optional projections `projSize`).
///
/// ```swift
/// let lstm = LSTM(28, 128, batchFirst: true)
/// let out = lstm(Tensor.randn([64, 28, 28]))                 // [64, 28, 128]
/// let (y, (hN, cN)) = lstm(Tensor.randn([64, 28, 28]), nil)   // hN, cN: [1, 64, 128]
/// ```
public final class LSTM: RNNBase {
    /// Creates the layer with PyTorch's initialisation.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0, dtype: DType = .float32) {
        super.init(mode: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: projSize, dtype: dtype)
    }

    /// The output sequence from a zero initial state.
    public override func forward(_ input: Tensor) -> Tensor { run(input, h0: nil, c0: nil).0 }

    /// `(output, (hN, cN))` from `input` and the initial `(h0, c0)` (zeros when nil).
    public func callAsFunction(_ input: Tensor, _ hx: (Tensor, Tensor)?) -> (Tensor, (Tensor, Tensor)) {
        let r = run(input, h0: hx?.0, c0: hx?.1)
        return (r.0, (r.1, r.2!))
    }
}

/// A multi-layer gated recurrent unit, as `torch.nn.GRU` (gates r, z, n; `b_hn` inside `r ⊙ (...)`).
///
/// ```swift
/// let gru = GRU(10, 20, bidirectional: true)
/// let (out, hN) = gru(Tensor.randn([5, 3, 10]), nil)   // out [5, 3, 40], hN [2, 3, 20]
/// ```
public final class GRU: RNNBase {
    /// Creates the layer with PyTorch's initialisation.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32) {
        super.init(mode: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype)
    }

    /// The output sequence from a zero initial state.
    public override func forward(_ input: Tensor) -> Tensor { run(input, h0: nil, c0: nil).0 }

    /// `(output, hN)` from `input` and the initial state `hx` (`[numLayers·D, B, hiddenSize]`, zeros when nil).
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?) -> (Tensor, Tensor) {
        let r = run(input, h0: hx, c0: nil)
        return (r.0, r.1)
    }
}
