// Primitive ops on symbolic tensors: each adds one node whose op is an `OpKind` (data), with its output spec from
// the op's throwing shape rule (broadcasting, matmul); running the graph calls the eager op of that kind.

extension SymbolicTensor {
    /// Adds a node of primitive op `kind` on `inputs`, its output spec from the kind's shape rule.
    private static func node(_ kind: OpKind, _ inputs: [SymbolicTensor]) throws(ShapeError) -> SymbolicTensor {
        let spec = try GraphOp.primitiveSpec(kind, inputs.map(\.spec))
        return GraphNode(kind: .op(kind), inputs: inputs, outputSpecs: [spec]).output(0)
    }

    private func binary(_ op: BinaryOp, _ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor {
        try Self.node(.binary(op), [self, other])
    }

    /// Element-wise sum with broadcasting (`torch.add`); throws when the shapes cannot broadcast.
    public func add(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary(.add, other) }
    /// Element-wise difference with broadcasting (`torch.sub`).
    public func sub(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary(.sub, other) }
    /// Element-wise product with broadcasting (`torch.mul`).
    public func mul(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary(.mul, other) }
    /// Element-wise quotient with broadcasting (`torch.div`).
    public func div(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary(.div, other) }

    /// A constant of the graph (`tf.constant`): the tensor itself, so gradients reach it through runs.
    public static func constant(_ t: Tensor, name: String? = nil) -> SymbolicTensor {
        GraphNode(kind: .constant(t), name: name, inputs: [], outputSpecs: [TensorSpec(shape: t.shape, dtype: t.dtype)]).output(0)
    }

    /// Matrix product with a constant (a weight held by a `Constant` node), as `torch.matmul(x, w)`.
    public func matmul(constant w: Tensor) throws(ShapeError) -> SymbolicTensor {
        let a = shape
        guard a.count >= 1, w.rank == 2, a[a.count - 1] < 0 || a[a.count - 1] == w.shape[0] else {
            throw ShapeError(op: "matmul", "shapes \(TensorSpec.format(a)) and \(w.shape) cannot be multiplied (expected last dimension \(w.shape.first ?? 0))")
        }
        return try matmul(.constant(w))
    }

    /// Matrix product of two symbolic values (`torch.matmul`: 2-D, batched with broadcast batch shapes, or a
    /// batch of rows times a matrix).
    public func matmul(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try Self.node(.matmul, [self, other]) }

    /// An element-wise unary op that keeps the shape: one of `relu`, `sigmoid`, `tanh`, `exp` (the kinds graphs run).
    public func unary(_ op: UnaryOp) -> SymbolicTensor {
        check(GraphOp.eager(.unary(op)) != nil, "graph: unary op \(op) is not available on symbolic tensors (relu, sigmoid, tanh, exp are)")
        return Graph.orTrap { () throws(ShapeError) in try Self.node(.unary(op), [self]) }
    }

    /// `max(x, 0)` (`torch.relu`).
    public func relu() -> SymbolicTensor { unary(.relu) }
    /// The logistic sigmoid (`torch.sigmoid`).
    public func sigmoid() -> SymbolicTensor { unary(.sigmoid) }
    /// The hyperbolic tangent (`torch.tanh`).
    public func tanh() -> SymbolicTensor { unary(.tanh) }
    /// `eˣ` (`torch.exp`).
    public func exp() -> SymbolicTensor { unary(.exp) }

    /// `a + b` on symbolic values; traps with the shape rule's message when they do not broadcast.
    public static func + (a: SymbolicTensor, b: SymbolicTensor) -> SymbolicTensor { Graph.orTrap { () throws(ShapeError) in try a.add(b) } }
    /// `a - b` on symbolic values.
    public static func - (a: SymbolicTensor, b: SymbolicTensor) -> SymbolicTensor { Graph.orTrap { () throws(ShapeError) in try a.sub(b) } }
    /// `a * b` on symbolic values.
    public static func * (a: SymbolicTensor, b: SymbolicTensor) -> SymbolicTensor { Graph.orTrap { () throws(ShapeError) in try a.mul(b) } }
}

extension Graph {
    /// NumPy broadcasting of shapes with free dims (`-1`): a free dim against a size n > 1 gives n.
    public static func broadcastFree(_ a: [Int], _ b: [Int], op: String) throws(ShapeError) -> [Int] {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db }
            else if da < 0 { out[i] = db } else if db < 0 { out[i] = da }
            else {
                throw ShapeError(op: op, "shapes \(TensorSpec.format(a)) and \(TensorSpec.format(b)) do not broadcast (dimension \(i - n): \(da) vs \(db))")
            }
        }
        return out
    }

    /// Runs a throwing builder step and traps with its message on error (the non-throwing API's form).
    public static func orTrap<R>(file: StaticString = #fileID, line: UInt = #line, _ body: () throws(ShapeError) -> R) -> R {
        do { return try body() } catch { nablaFail(error.description, file: file, line: line) }
    }
}
