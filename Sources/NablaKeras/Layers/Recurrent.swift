import NablaNN

/// The recurrent layer kinds, wrapping NablaNN's `RNN`, `LSTM` and `GRU` modules.
public enum RecurrentKind: String, Sendable {
    /// Elman RNN with tanh (`SimpleRNN`).
    case simple
    /// Long short-term memory (`LSTM`).
    case lstm
    /// Gated recurrent unit (`GRU`, Keras' `reset_after=True` form).
    case gru
}

/// The shared machinery of `SimpleRNN`, `LSTM` and `GRU`: a batch-first NablaNN recurrent module built
/// for the input's feature size, re-initialised with Keras' defaults (glorot-uniform input kernel,
/// orthogonal recurrent kernel, zero biases, LSTM forget-gate bias 1).
///
/// Input `(None, timesteps, features)`; output `(None, units)`, or `(None, timesteps, units)` with
/// `returnSequences`. Weights keep PyTorch's names and layout (`weight_ih_l0`, `weight_hh_l0`, ...).
open class RecurrentLayer: Layer {
    /// Hidden size.
    public let units: Int
    /// Whether to return the whole sequence rather than the last step.
    public let returnSequences: Bool
    /// The cell kind.
    public let kind: RecurrentKind
    /// The wrapped NablaNN module (created by `build`).
    public private(set) var module: RNNBase?
    let declared: [Int]?

    /// Creates the layer.
    public init(kind: RecurrentKind, units: Int, returnSequences: Bool, inputShape: [Int]?, name: String?) {
        check(units > 0, "\(kind): units must be positive, got \(units)")
        self.kind = kind; self.units = units; self.returnSequences = returnSequences; declared = inputShape
        super.init(name: name)
    }

    /// Keras' `input_shape`, if given.
    open override var declaredInputShape: [Int]? { declared }

    /// The input must be `(None, timesteps, features)` with known features.
    open override func checkBuild(inputShape: [Int]) throws(ShapeError) {
        guard inputShape.count == 3, let f = inputShape.last, f > 0 else {
            throw ShapeError(op: "layer \(name)", "expects an input (None, timesteps, features) with known features, got \(TensorSpec.format(inputShape))")
        }
        let gates = kind == .lstm ? 4 : kind == .gru ? 3 : 1
        let (rows, o) = gates.multipliedReportingOverflow(by: units)
        try checkWeightSize("weight_ih", o ? [Int.max] : [rows, f])
        try checkWeightSize("weight_hh", o ? [Int.max] : [rows, units])
    }

    /// Creates the NablaNN module for the input's feature size and applies Keras' initialisers.
    open override func build(inputShape: [Int]) {
        guard inputShape.count == 3, let f = inputShape.last, f > 0 else {
            nablaFail("layer \(name): expects an input (None, timesteps, features) with known features, got \(TensorSpec.format(inputShape))")
        }
        let m: RNNBase
        switch kind {
        case .simple: m = NablaNN.RNN(f, units, batchFirst: true)
        case .lstm: m = NablaNN.LSTM(f, units, batchFirst: true)
        case .gru: m = NablaNN.GRU(f, units, batchFirst: true)
        }
        noGrad {
            for (n, w) in m.namedParameters() {
                if n.hasPrefix("weight_ih") {
                    w.copy_(Initializer.glorotUniform.make([w.shape[1], w.shape[0]]).t())
                } else if n.hasPrefix("weight_hh") {
                    w.copy_(Initializer.orthogonal.make([w.shape[1], w.shape[0]]).t())
                } else if n.hasPrefix("bias") {
                    w.zero_()
                    if kind == .lstm && n.hasPrefix("bias_ih") { w.narrow(0, start: units, length: units).fill_(1) }
                }
            }
        }
        m.train(training)
        module = m
        for (n, w) in m.namedParameters() { trackWeight(n, w) }
    }

    /// Runs the recurrence; returns the last step unless `returnSequences`.
    open override func call(_ x: Tensor, training: Bool) -> Tensor {
        guard let module else { nablaFail("layer \(name): not built") }
        check(x.rank == 3, "layer \(name): expected an input [batch, timesteps, features], got \(x.shape)")
        let out = module(x)
        return returnSequences ? out : out.select(1, out.shape[1] - 1)
    }

    /// `(None, units)` or `(None, timesteps, units)`.
    open override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        let s = inputs[0].shape
        guard s.count == 3 else { throw ShapeError(op: "layer \(name)", "expected an input (None, timesteps, features), got \(TensorSpec.format(s))") }
        return [TensorSpec(shape: returnSequences ? [s[0], s[1], units] : [s[0], units], dtype: inputs[0].dtype)]
    }

    /// `units`, `return_sequences`.
    open override var config: [(String, GraphAttribute)] { [("units", .int(units)), ("return_sequences", .bool(returnSequences))] }
}

/// A fully connected RNN with tanh (`keras.layers.SimpleRNN`), over NablaNN's `RNN`.
public final class SimpleRNN: RecurrentLayer {
    /// Creates the layer.
    public init(_ units: Int, returnSequences: Bool = false, inputShape: [Int]? = nil, name: String? = nil) {
        super.init(kind: .simple, units: units, returnSequences: returnSequences, inputShape: inputShape, name: name)
    }
}

/// Long short-term memory (`keras.layers.LSTM`), over NablaNN's `LSTM`.
public final class LSTM: RecurrentLayer {
    /// Creates the layer.
    public init(_ units: Int, returnSequences: Bool = false, inputShape: [Int]? = nil, name: String? = nil) {
        super.init(kind: .lstm, units: units, returnSequences: returnSequences, inputShape: inputShape, name: name)
    }
}

/// Gated recurrent unit (`keras.layers.GRU`, `reset_after=True`), over NablaNN's `GRU`.
public final class GRU: RecurrentLayer {
    /// Creates the layer.
    public init(_ units: Int, returnSequences: Bool = false, inputShape: [Int]? = nil, name: String? = nil) {
        super.init(kind: .gru, units: units, returnSequences: returnSequences, inputShape: inputShape, name: name)
    }
}
