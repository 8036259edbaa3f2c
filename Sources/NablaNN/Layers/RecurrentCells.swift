// Single-step recurrent cells: RNNCell, LSTMCell, GRUCell (torch.nn.RNNCell, LSTMCell, GRUCell).

/// The non-linearity of an Elman RNN (`nonlinearity='tanh'` or `'relu'` in PyTorch).
public enum RNNNonlinearity: String, Sendable {
    /// `tanh` (PyTorch's default).
    case tanh
    /// `relu`.
    case relu
}

/// A cell's `(weightIh, weightHh, biasIh, biasHh)`: `gates · hiddenSize` rows each, uniform on ±1/√hiddenSize as PyTorch
/// initialises them (drawn in that order); the biases are nil without `bias`.
func cellParameters(gates: Int, inputSize: Int, hiddenSize: Int, bias: Bool, dtype: DType) -> (Tensor, Tensor, Tensor?, Tensor?) {
    let k = 1 / Double(hiddenSize).squareRoot(), rows = gates * hiddenSize
    let weightIh = uniformParameter([rows, inputSize], bound: k, dtype: dtype)
    let weightHh = uniformParameter([rows, hiddenSize], bound: k, dtype: dtype)
    let biasIh = bias ? uniformParameter([rows], bound: k, dtype: dtype) : nil
    let biasHh = bias ? uniformParameter([rows], bound: k, dtype: dtype) : nil
    return (weightIh, weightHh, biasIh, biasHh)
}

/// `input @ weightᵀ (+ bias)`, the projection every recurrent step starts with.
func recurrentLinear(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
    let y = matmul(input, weight.t())
    if let bias { return y + bias }
    return y
}

/// Shared shape checks of the cells: `input` is `[B, inputSize]` or `[inputSize]`; returns it 2-D and whether it was 1-D.
func cellInput(_ name: String, _ input: Tensor, inputSize: Int) -> (Tensor, Bool) {
    check((input.rank == 1 || input.rank == 2) && input.shape[input.rank - 1] == inputSize,
          "\(name): expected input of shape [batch, \(inputSize)] or [\(inputSize)], got \(input.shape)")
    return input.rank == 1 ? (input.unsqueeze(0), true) : (input, false)
}

/// Checks a cell's state against `[batch, size]`, or makes zeros when it is nil.
func cellState(_ name: String, _ state: Tensor?, batch: Int, size: Int, unbatched: Bool, like x: Tensor) -> Tensor {
    guard let state else { return Tensor.zeros([batch, size], dtype: x.dtype, device: x.device) }
    let s = unbatched && state.rank == 1 ? state.unsqueeze(0) : state
    check(s.shape == [batch, size], "\(name): expected hidden state of shape \(unbatched ? [size] : [batch, size]), got \(state.shape)")
    return s
}

/// An Elman RNN cell `h' = tanh(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)` (or relu), as `torch.nn.RNNCell`.
///
/// ```swift
/// let cell = RNNCell(10, 20)
/// var h = Tensor.zeros([3, 20])
/// for x in Tensor.randn([6, 3, 10]).unbind() { h = cell(x, h) }
/// ```
public final class RNNCell: Module {
    /// Features of the input.
    public let inputSize: Int
    /// Features of the hidden state.
    public let hiddenSize: Int
    /// The non-linearity.
    public let nonlinearity: RNNNonlinearity
    /// `[hiddenSize, inputSize]`.
    public var weightIh: Tensor
    /// `[hiddenSize, hiddenSize]`.
    public var weightHh: Tensor
    /// `[hiddenSize]`, or nil without bias.
    public var biasIh: Tensor?
    /// `[hiddenSize]`, or nil without bias.
    public var biasHh: Tensor?

    /// Creates the cell with PyTorch's initialisation (uniform on ±1/√hiddenSize).
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, nonlinearity: RNNNonlinearity = .tanh, dtype: DType = .float32) {
        self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.nonlinearity = nonlinearity
        (weightIh, weightHh, biasIh, biasHh) = cellParameters(gates: 1, inputSize: inputSize, hiddenSize: hiddenSize,
                                                              bias: bias, dtype: dtype)
        super.init()
    }

    /// One step from a zero state.
    public override func forward(_ input: Tensor) -> Tensor { self(input, nil) }

    /// One step: `input [B, inputSize]` (or `[inputSize]`), `hx [B, hiddenSize]` (zeros when nil) → `h'`.
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?) -> Tensor {
        let (x, unbatched) = cellInput("RNNCell", input, inputSize: inputSize)
        let h = cellState("RNNCell", hx, batch: x.shape[0], size: hiddenSize, unbatched: unbatched, like: x)
        let pre = recurrentLinear(x, weightIh, biasIh) + recurrentLinear(h, weightHh, biasHh)
        let out = nonlinearity == .tanh ? pre.tanh() : pre.relu()
        return unbatched ? out.squeeze(0) : out
    }

    /// `10, 20` plus non-default options, as PyTorch prints it.
    public override var extraDescription: String {
        "\(inputSize), \(hiddenSize)" + (biasIh == nil ? ", bias=False" : "") + (nonlinearity == .relu ? ", nonlinearity=relu" : "")
    }
}

/// A long short-term memory cell, as `torch.nn.LSTMCell` (gates i, f, g, o stacked in the weights' rows).
///
/// ```swift
/// let cell = LSTMCell(10, 20)
/// let (h, c) = cell(Tensor.randn([3, 10]), (Tensor.zeros([3, 20]), Tensor.zeros([3, 20])))
/// ```
public final class LSTMCell: Module {
    /// Features of the input.
    public let inputSize: Int
    /// Features of the hidden and cell state.
    public let hiddenSize: Int
    /// `[4 hiddenSize, inputSize]`.
    public var weightIh: Tensor
    /// `[4 hiddenSize, hiddenSize]`.
    public var weightHh: Tensor
    /// `[4 hiddenSize]`, or nil without bias.
    public var biasIh: Tensor?
    /// `[4 hiddenSize]`, or nil without bias.
    public var biasHh: Tensor?

    /// Creates the cell with PyTorch's initialisation (uniform on ±1/√hiddenSize).
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, dtype: DType = .float32) {
        self.inputSize = inputSize; self.hiddenSize = hiddenSize
        (weightIh, weightHh, biasIh, biasHh) = cellParameters(gates: 4, inputSize: inputSize, hiddenSize: hiddenSize,
                                                              bias: bias, dtype: dtype)
        super.init()
    }

    /// One step from a zero state; returns `h'`.
    public override func forward(_ input: Tensor) -> Tensor { self(input, nil).0 }

    /// One step: `input [B, inputSize]` (or `[inputSize]`), `(h, c)` each `[B, hiddenSize]` (zeros when nil) → `(h', c')`.
    public func callAsFunction(_ input: Tensor, _ hx: (Tensor, Tensor)?) -> (Tensor, Tensor) {
        let (x, unbatched) = cellInput("LSTMCell", input, inputSize: inputSize)
        let h = cellState("LSTMCell", hx?.0, batch: x.shape[0], size: hiddenSize, unbatched: unbatched, like: x)
        let c = cellState("LSTMCell", hx?.1, batch: x.shape[0], size: hiddenSize, unbatched: unbatched, like: x)
        let gates = recurrentLinear(x, weightIh, biasIh) + recurrentLinear(h, weightHh, biasHh)
        let (h1, c1) = lstmCell(gates, c)
        return unbatched ? (h1.squeeze(0), c1.squeeze(0)) : (h1, c1)
    }

    /// `10, 20` plus `bias=False` when set, as PyTorch prints it.
    public override var extraDescription: String { "\(inputSize), \(hiddenSize)" + (biasIh == nil ? ", bias=False" : "") }
}

/// A gated recurrent unit cell, as `torch.nn.GRUCell` (gates r, z, n; `b_hn` inside `r ⊙ (h Wₕₙᵀ + b_hn)`).
///
/// ```swift
/// let cell = GRUCell(10, 20)
/// let h = cell(Tensor.randn([3, 10]), Tensor.zeros([3, 20]))
/// ```
public final class GRUCell: Module {
    /// Features of the input.
    public let inputSize: Int
    /// Features of the hidden state.
    public let hiddenSize: Int
    /// `[3 hiddenSize, inputSize]`.
    public var weightIh: Tensor
    /// `[3 hiddenSize, hiddenSize]`.
    public var weightHh: Tensor
    /// `[3 hiddenSize]`, or nil without bias.
    public var biasIh: Tensor?
    /// `[3 hiddenSize]`, or nil without bias.
    public var biasHh: Tensor?

    /// Creates the cell with PyTorch's initialisation (uniform on ±1/√hiddenSize).
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, dtype: DType = .float32) {
        self.inputSize = inputSize; self.hiddenSize = hiddenSize
        (weightIh, weightHh, biasIh, biasHh) = cellParameters(gates: 3, inputSize: inputSize, hiddenSize: hiddenSize,
                                                              bias: bias, dtype: dtype)
        super.init()
    }

    /// One step from a zero state.
    public override func forward(_ input: Tensor) -> Tensor { self(input, nil) }

    /// One step: `input [B, inputSize]` (or `[inputSize]`), `hx [B, hiddenSize]` (zeros when nil) → `h'`.
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?) -> Tensor {
        let (x, unbatched) = cellInput("GRUCell", input, inputSize: inputSize)
        let h = cellState("GRUCell", hx, batch: x.shape[0], size: hiddenSize, unbatched: unbatched, like: x)
        let out = gruStep(recurrentLinear(x, weightIh, biasIh), h, weightHh, biasHh)
        return unbatched ? out.squeeze(0) : out
    }

    /// `10, 20` plus `bias=False` when set, as PyTorch prints it.
    public override var extraDescription: String { "\(inputSize), \(hiddenSize)" + (biasIh == nil ? ", bias=False" : "") }
}

/// One GRU step from the input projection `gx = x Wᵢₕᵀ + bᵢₕ` (`[B, 3H]`) and the state `h`, PyTorch's formulas:
/// `r = σ(xr + hr)`, `z = σ(xz + hz)`, `n = tanh(xn + r ⊙ hn)`, `h' = (1 − z) ⊙ n + z ⊙ h`.
func gruStep(_ gx: Tensor, _ h: Tensor, _ weightHh: Tensor, _ biasHh: Tensor?) -> Tensor {
    let gh = recurrentLinear(h, weightHh, biasHh)
    let xs = gx.chunk(3, dim: -1), hs = gh.chunk(3, dim: -1)
    let rz = (gx.narrow(-1, start: 0, length: 2 * h.shape[1]) + gh.narrow(-1, start: 0, length: 2 * h.shape[1])).sigmoid()
    let parts = rz.chunk(2, dim: -1)
    let n = (xs[2] + parts[0] * hs[2]).tanh()
    return n + parts[1] * (h - n)
}
