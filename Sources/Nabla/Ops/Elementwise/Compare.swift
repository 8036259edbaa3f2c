// Comparisons and logical ops: bool results, no gradient.

extension Tensor {
    /// Element-wise `self == other` (`eq`), broadcasting.
    public func eq(_ other: Tensor) -> Tensor { OpSupport.binary(.eq, self, other, name: "eq") }
    /// Element-wise `self != other` (`ne`).
    public func ne(_ other: Tensor) -> Tensor { OpSupport.binary(.ne, self, other, name: "ne") }
    /// Element-wise `self < other` (`lt`).
    public func lt(_ other: Tensor) -> Tensor { OpSupport.binary(.lt, self, other, name: "lt") }
    /// Element-wise `self <= other` (`le`).
    public func le(_ other: Tensor) -> Tensor { OpSupport.binary(.le, self, other, name: "le") }
    /// Element-wise `self > other` (`gt`).
    public func gt(_ other: Tensor) -> Tensor { OpSupport.binary(.gt, self, other, name: "gt") }
    /// Element-wise `self >= other` (`ge`).
    public func ge(_ other: Tensor) -> Tensor { OpSupport.binary(.ge, self, other, name: "ge") }
    /// Element-wise `self == scalar`.
    public func eq(_ s: Double) -> Tensor { OpSupport.binaryScalar(.eq, self, s, reversed: false, name: "eq") }
    /// Element-wise `self != scalar`.
    public func ne(_ s: Double) -> Tensor { OpSupport.binaryScalar(.ne, self, s, reversed: false, name: "ne") }
    /// Element-wise `self < scalar`.
    public func lt(_ s: Double) -> Tensor { OpSupport.binaryScalar(.lt, self, s, reversed: false, name: "lt") }
    /// Element-wise `self <= scalar`.
    public func le(_ s: Double) -> Tensor { OpSupport.binaryScalar(.le, self, s, reversed: false, name: "le") }
    /// Element-wise `self > scalar`.
    public func gt(_ s: Double) -> Tensor { OpSupport.binaryScalar(.gt, self, s, reversed: false, name: "gt") }
    /// Element-wise `self >= scalar`.
    public func ge(_ s: Double) -> Tensor { OpSupport.binaryScalar(.ge, self, s, reversed: false, name: "ge") }
    /// Element-wise logical and (`logical_and`).
    public func logicalAnd(_ other: Tensor) -> Tensor { OpSupport.binary(.logicalAnd, self, other, name: "logicalAnd") }
    /// Element-wise logical or (`logical_or`).
    public func logicalOr(_ other: Tensor) -> Tensor { OpSupport.binary(.logicalOr, self, other, name: "logicalOr") }
    /// Element-wise logical xor (`logical_xor`).
    public func logicalXor(_ other: Tensor) -> Tensor { OpSupport.binary(.logicalXor, self, other, name: "logicalXor") }
    /// Element-wise logical not (`logical_not`).
    public func logicalNot() -> Tensor { OpSupport.unary(.logicalNot, self) }
    /// Whether each element is NaN (`isnan`).
    public func isnan() -> Tensor { OpSupport.unary(.isnan, self) }
    /// Whether each element is ±infinity (`isinf`).
    public func isinf() -> Tensor { OpSupport.unary(.isinf, self) }
    /// Whether two tensors have the same shape and elements (`torch.equal`).
    public func equal(_ other: Tensor) -> Bool { shape == other.shape && eq(other).toBoolArray().allSatisfy { $0 } }
}
