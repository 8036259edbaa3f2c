#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The value types that the fused-op requirements of `Backend` pass around: what an attention or a recurrent
// forward keeps for its backward, and the hyper-parameters of one optimizer update.

/// What `Backend.attention` keeps for `attentionBackward`: the inputs as the backend read them and the softmax
/// weights [B, H, L, S]. A backend may subclass it to keep more.
open class AttentionContext {
    /// The queries, keys and values the forward read.
    public let q: Tensor, k: Tensor, v: Tensor
    /// The additive mask the forward applied, if any.
    public let mask: Tensor?
    /// `softmax(q kᵀ · scale + mask)`.
    public let weights: Tensor

    /// Creates a context from the forward's inputs and weights.
    public init(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, weights: Tensor) {
        self.q = q; self.k = k; self.v = v; self.mask = mask; self.weights = weights
    }
}

/// The recurrences a whole-sequence recurrent op runs.
public enum RecurrentMode: Sendable, Hashable {
    /// Long short-term memory (gates i, f, g, o).
    case lstm
    /// Gated recurrent unit (gates r, z, n; `b_hn` inside `r ⊙ (...)`).
    case gru
    /// Elman RNN with tanh.
    case rnnTanh
    /// Elman RNN with ReLU.
    case rnnRelu

    /// Gates per hidden unit: 4 (LSTM), 3 (GRU) or 1 (RNN).
    public var gateCount: Int {
        switch self {
        case .lstm: return 4
        case .gru: return 3
        case .rnnTanh, .rnnRelu: return 1
        }
    }
}

/// The inputs of one direction of one recurrent layer over a whole sequence.
public struct RecurrentSequenceInputs {
    /// The recurrence.
    public var mode: RecurrentMode
    /// The sequence `[T, B, F]`.
    public var x: Tensor
    /// Input-hidden weights `[gates·H, F]`.
    public var wih: Tensor
    /// Hidden-hidden weights `[gates·H, H]`.
    public var whh: Tensor
    /// Input-hidden bias `[gates·H]`, if any.
    public var bih: Tensor?
    /// Hidden-hidden bias `[gates·H]`, if any.
    public var bhh: Tensor?
    /// The initial hidden state `[B, H]`.
    public var h0: Tensor
    /// The initial cell state `[B, H]` (LSTM only).
    public var c0: Tensor?
    /// Whether time runs backwards (the reverse direction of a bidirectional layer).
    public var reverse: Bool
    /// Whether `h0` (and `c0`) are zeros that need no gradient (the first step's recurrent product is skipped).
    public var zeroState: Bool

    /// Creates the inputs.
    public init(mode: RecurrentMode, x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?, bhh: Tensor?, h0: Tensor,
                c0: Tensor?, reverse: Bool, zeroState: Bool) {
        self.mode = mode; self.x = x; self.wih = wih; self.whh = whh; self.bih = bih; self.bhh = bhh
        self.h0 = h0; self.c0 = c0; self.reverse = reverse; self.zeroState = zeroState
    }
}

/// What `Backend.recurrentSequence` keeps for its backward: at least its inputs. A backend may subclass it.
open class RecurrentContext {
    /// The forward's inputs.
    public let inputs: RecurrentSequenceInputs
    /// Creates a context holding `inputs`.
    public init(_ inputs: RecurrentSequenceInputs) { self.inputs = inputs }
}

/// The results of `Backend.recurrentSequence`.
public struct RecurrentSequenceResult {
    /// The outputs `[T, B, H]`.
    public var output: Tensor
    /// The final hidden state `[B, H]`.
    public var h: Tensor
    /// The final cell state `[B, H]` (LSTM only).
    public var c: Tensor?
    /// What the backward needs.
    public var context: RecurrentContext

    /// Creates a result.
    public init(output: Tensor, h: Tensor, c: Tensor?, context: RecurrentContext) {
        self.output = output; self.h = h; self.c = c; self.context = context
    }
}

/// The gradients of a whole-sequence recurrent op: one per input (the bias gradient is shared by `bih` and `bhh`,
/// which enter the recurrence summed, except in the GRU's `n` gate).
public struct RecurrentSequenceGradients {
    /// Gradient of `x` (nil when not asked).
    public var x: Tensor?
    /// Gradients of the weights.
    public var wih: Tensor, whh: Tensor
    /// Gradients of the biases.
    public var bih: Tensor, bhh: Tensor
    /// Gradients of the initial states.
    public var h0: Tensor, c0: Tensor?

    /// Creates the gradients.
    public init(x: Tensor?, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor, h0: Tensor, c0: Tensor?) {
        self.x = x; self.wih = wih; self.whh = whh; self.bih = bih; self.bhh = bhh; self.h0 = h0; self.c0 = c0
    }
}

/// One optimizer update rule with its hyper-parameters for this step, each as PyTorch's single-tensor update computes
/// it (scalars computed as PyTorch's Python code does). The state buffers passed with it are listed per case.
public enum OptimizerRule: Sendable, Hashable {
    /// SGD; state `[momentumBuffer]` when `momentum != 0`, else `[]`. `first`: the buffer is new (set it to the
    /// decayed gradient).
    case sgd(lr: Double, momentum: Double, dampening: Double, weightDecay: Double, nesterov: Bool, maximize: Bool, first: Bool)
    /// Adam / AdamW (`decoupled`) at step `step` (1-based); state `[expAvg, expAvgSq]` plus `maxExpAvgSq` with `amsgrad`.
    case adam(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double, decoupled: Bool, amsgrad: Bool,
              maximize: Bool, step: Int)
    /// RMSprop; state `[squareAvg]`, then `gradAvg` when `centered`, then `momentumBuffer` when `momentum > 0`.
    case rmsprop(lr: Double, alpha: Double, eps: Double, weightDecay: Double, momentum: Double, centered: Bool, maximize: Bool)
    /// Adagrad with the decayed learning rate `clr = lr / (1 + (step − 1)·lrDecay)`; state `[sum]`.
    case adagrad(clr: Double, eps: Double, weightDecay: Double, maximize: Bool)
    /// Adadelta; state `[squareAvg, accDelta]`.
    case adadelta(lr: Double, rho: Double, eps: Double, weightDecay: Double, maximize: Bool)

    /// Adam's step size `lr / (1 − β1ᵗ)` and `√(1 − β2ᵗ)`, computed as PyTorch's Python code does (libm `pow`).
    public static func adamBiasCorrection(lr: Double, beta1: Double, beta2: Double, step: Int) -> (stepSize: Double, bc2Sqrt: Double) {
        let bc1 = 1 - libmPow(beta1, Double(step)), bc2 = 1 - libmPow(beta2, Double(step))
        return (lr / bc1, libmPow(bc2, 0.5))
    }

    /// The rule's name, for messages and counters.
    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case .adam: return "adam"
        case .rmsprop: return "rmsprop"
        case .adagrad: return "adagrad"
        case .adadelta: return "adadelta"
        }
    }
}

/// The fused ops of `Backend`, named for counters and tests.
public enum FusedOp: String, CaseIterable, Sendable {
    /// `Backend.conv2d` and its backward.
    case conv2d, conv2dBackward
    /// `Backend.softmax` (log or not) and its backward.
    case softmax, softmaxBackward
    /// `Backend.normRows` (layerNorm, groupNorm) and its backward.
    case normRows, normRowsBackward
    /// The batchNorm kernels: statistics, affine map, backward.
    case batchNormStats, batchNormAffine, batchNormBackward
    /// `Backend.attention` and its backward.
    case attention, attentionBackward
    /// `Backend.recurrentSequence` and its backward.
    case recurrentSequence, recurrentSequenceBackward
    /// `Backend.lstmCell` and its backward.
    case lstmCell, lstmCellBackward
    /// `Backend.optimizerStep`, one per rule.
    case sgdStep, adamStep, rmspropStep, adagradStep, adadeltaStep
    /// `Backend.linearEpilogue`: the forward of `linear`, `linearRelu` and `linear` with a residual.
    case linearEpilogue

    /// The counter of an optimizer rule's step.
    public init(_ rule: OptimizerRule) {
        switch rule {
        case .sgd: self = .sgdStep
        case .adam: self = .adamStep
        case .rmsprop: self = .rmspropStep
        case .adagrad: self = .adagradStep
        case .adadelta: self = .adadeltaStep
        }
    }
}

/// The C library's `pow`, which Python's `**` on floats calls too.
@inline(__always) func libmPow(_ a: Double, _ b: Double) -> Double { pow(a, b) }
