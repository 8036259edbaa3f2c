import NablaNN

/// A model built from a config's layer list, with the shape of every layer's output.
public struct BuiltModel {
    /// The network (`Sequential` of the configured layers, named `0`, `1`, ... as PyTorch's).
    public let module: Sequential
    /// Per layer: its kind, output shape (batch excluded) and parameter count.
    public let layers: [(kind: String, outputShape: [Int], parameters: Int)]
    /// The input shape (batch excluded).
    public let inputShape: [Int]

    /// Builds the layers in order, inferring each input size from the previous output; throws a located
    /// `ConfigError` at the first layer whose input shape cannot work.
    public init(_ config: ModelConfig) throws {
        var shape = config.input
        var modules: [Module] = []
        var rows: [(String, [Int], Int)] = []
        for spec in config.layers {
            // Sizes come from a file: bound the weights before they are allocated and the shapes before they overflow.
            try spec.checkSizes(input: shape)
            let (m, out) = try spec.build(input: shape)
            if let problem = ReaderLimits.current.shapeProblem(out) {
                throw spec.node.error("layer \(spec.kind): output \(problem)")
            }
            modules.append(m)
            rows.append((spec.kind, out, m.parameters().reduce(0) { $0 + $1.count }))
            shape = out
        }
        module = Sequential(modules)
        layers = rows
        inputShape = config.input
    }

    /// The output shape of one sample.
    public var outputShape: [Int] { layers.last?.outputShape ?? inputShape }

    /// Total number of parameters.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameters } }

    /// A Keras-like table: each layer's name, type, output shape and parameter count, then the totals.
    public func summary(name: String) -> String {
        func fmt(_ s: [Int]) -> String { "[-1, " + s.map(String.init).joined(separator: ", ") + "]" }
        let children = module.namedChildren()
        var rows: [(String, String, String)] = [("Layer (type)", "Output Shape", "Param #")]
        rows.append(("input", fmt(inputShape), "0"))
        for (i, l) in layers.enumerated() {
            rows.append(("\(children[i].0) (\(children[i].1.typeName))", fmt(l.outputShape), "\(l.parameters)"))
        }
        let w0 = rows.map(\.0.count).max()! + 2, w1 = rows.map(\.1.count).max()! + 2
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: Swift.max(0, w - s.count)) }
        let rule = String(repeating: "=", count: w0 + w1 + 12)
        var lines = ["Model: \"\(name)\"", rule]
        for (i, r) in rows.enumerated() {
            lines.append(pad(r.0, w0) + pad(r.1, w1) + r.2)
            if i == 0 { lines.append(rule) }
        }
        let trainable = module.parameters().filter(\.requiresGrad).reduce(0) { $0 + $1.count }
        lines += [rule, "Total params: \(parameterCount)", "Trainable params: \(trainable)",
                  "Non-trainable params: \(parameterCount - trainable)"]
        return lines.joined(separator: "\n")
    }
}
