// Primitive ops on symbolic tensors: each adds one node whose `apply` calls the eager op, with
// the op's throwing shape rule where one exists (broadcasting, matmul) and shape inference by
// example otherwise.

extension SymbolicTensor {
    private func binary(_ op: String, _ other: SymbolicTensor, _ fn: @escaping (Tensor, Tensor) -> Tensor) throws(ShapeError) -> SymbolicTensor {
        try GraphNode.make(op: op, inputs: [self, other], shapeRule: { (s: [TensorSpec]) throws(ShapeError) -> [TensorSpec] in
            [TensorSpec(shape: try Graph.broadcastFree(s[0].shape, s[1].shape, op: op), dtype: s[0].dtype.promoted(with: s[1].dtype))]
        }) { [fn($0[0], $0[1])] }[0]
    }

    /// Element-wise sum with broadcasting (`torch.add`); throws when the shapes cannot broadcast.
    public func add(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary("add", other) { $0 + $1 } }
    /// Element-wise difference with broadcasting (`torch.sub`).
    public func sub(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary("sub", other) { $0 - $1 } }
    /// Element-wise product with broadcasting (`torch.mul`).
    public func mul(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary("mul", other) { $0 * $1 } }
    /// Element-wise quotient with broadcasting (`torch.div`).
    public func div(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor { try binary("div", other) { $0 / $1 } }

    /// Matrix product with a constant (a weight captured by the node), as `torch.matmul(x, w)`.
    public func matmul(constant w: Tensor) throws(ShapeError) -> SymbolicTensor {
        let wShape = w.shape
        return try GraphNode.make(op: "matmul", attributes: [("weight", .ints(wShape))], inputs: [self],
                                  shapeRule: { (s: [TensorSpec]) throws(ShapeError) -> [TensorSpec] in
            let a = s[0].shape
            guard a.count >= 1, wShape.count == 2, a[a.count - 1] < 0 || a[a.count - 1] == wShape[0] else {
                throw ShapeError(op: "matmul", "shapes \(TensorSpec.format(a)) and \(wShape) cannot be multiplied (expected last dimension \(wShape.first ?? 0))")
            }
            return [TensorSpec(shape: Array(a.dropLast()) + [wShape[1]], dtype: s[0].dtype.promoted(with: w.dtype))]
        }) { [Nabla.matmul($0[0], w)] }[0]
    }

    /// Matrix product of two symbolic values (`torch.matmul`, 2-D or batched with equal batch shapes).
    public func matmul(_ other: SymbolicTensor) throws(ShapeError) -> SymbolicTensor {
        try GraphNode.make(op: "matmul", inputs: [self, other], shapeRule: { (s: [TensorSpec]) throws(ShapeError) -> [TensorSpec] in
            let a = s[0].shape, b = s[1].shape
            guard a.count >= 2, b.count >= 2 else {
                throw ShapeError(op: "matmul", "expected operands of rank >= 2, got \(TensorSpec.format(a)) and \(TensorSpec.format(b))")
            }
            let k1 = a[a.count - 1], k2 = b[b.count - 2]
            guard k1 < 0 || k2 < 0 || k1 == k2 else {
                throw ShapeError(op: "matmul", "shapes \(TensorSpec.format(a)) and \(TensorSpec.format(b)) cannot be multiplied (\(k1) vs \(k2))")
            }
            let batch = try Graph.broadcastFree(Array(a.dropLast(2)), Array(b.dropLast(2)), op: "matmul")
            return [TensorSpec(shape: batch + [a[a.count - 2], b[b.count - 1]], dtype: s[0].dtype.promoted(with: s[1].dtype))]
        }) { [Nabla.matmul($0[0], $0[1])] }[0]
    }

    /// An element-wise unary op that keeps the shape (`op` names it in listings).
    public func unary(_ op: String, _ fn: @escaping (Tensor) -> Tensor) -> SymbolicTensor {
        let spec = self.spec
        let out = try? GraphNode.make(op: op, inputs: [self], shapeRule: { _ in [spec] }) { [fn($0[0])] }
        return out![0]
    }

    /// `max(x, 0)` (`torch.relu`).
    public func relu() -> SymbolicTensor { unary("relu") { Nabla.relu($0) } }
    /// The logistic sigmoid (`torch.sigmoid`).
    public func sigmoid() -> SymbolicTensor { unary("sigmoid") { Nabla.sigmoid($0) } }
    /// The hyperbolic tangent (`torch.tanh`).
    public func tanh() -> SymbolicTensor { unary("tanh") { Nabla.tanh($0) } }
    /// `eˣ` (`torch.exp`).
    public func exp() -> SymbolicTensor { unary("exp") { Nabla.exp($0) } }

    /// Any other op, with its output specs inferred by running it on small zero tensors.
    public func apply(_ op: String, attributes: [(String, GraphAttribute)] = [], _ fn: @escaping (Tensor) -> Tensor) -> SymbolicTensor {
        let out = try? GraphNode.make(op: op, attributes: attributes, inputs: [self]) { [fn($0[0])] }
        return out![0]
    }

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
