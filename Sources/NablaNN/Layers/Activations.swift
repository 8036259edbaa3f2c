/// `max(x, 0)` as a layer (`nn.ReLU`).
public final class ReLU: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `relu(x)`.
    public override func forward(_ input: Tensor) -> Tensor { relu(input) }
}

/// `tanh(x)` as a layer (`nn.Tanh`).
public final class Tanh: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `tanh(x)`.
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// `sigmoid(x)` as a layer (`nn.Sigmoid`).
public final class Sigmoid: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `sigmoid(x)`.
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// Returns its input (`nn.Identity`), e.g. to remove a head.
public final class Identity: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `x`.
    public override func forward(_ input: Tensor) -> Tensor { input }
}

/// Flattens dims `startDim...endDim` (`nn.Flatten`, default keeps the batch dim).
public final class Flatten: Module {
    /// First dim flattened.
    public let startDim: Int
    /// Last dim flattened.
    public let endDim: Int
    /// Creates the layer.
    public init(startDim: Int = 1, endDim: Int = -1) { self.startDim = startDim; self.endDim = endDim; super.init() }
    /// `x.flatten(startDim:endDim:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.flatten(startDim: startDim, endDim: endDim) }
    /// `start_dim=..., end_dim=...`.
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}
