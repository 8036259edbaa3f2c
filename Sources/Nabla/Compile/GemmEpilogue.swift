/// A matrix product fused with what is done to its result (`OpKind.gemmEpilogue`), as data: the op that writes the
/// product's starting value (a linear layer's broadcast bias, which the GEMM then accumulates onto), the element-wise
/// ops applied to the product (bias add, activation, residual add, an activation's backward), and which values the
/// node writes out.
///
/// The node runs one block of rows of the product at a time (`GemmEpilogueKernel`): the bias is written into the
/// block, one GEMM computes the block, and every epilogue op runs on the block while it is in the cache. Values no
/// other node reads (a pre-activation that only its activation reads) never go to memory.
public struct GemmEpilogue: Hashable, Sendable, CustomStringConvertible {
    /// Where an op of the node finds one operand.
    public enum Operand: Hashable, Sendable {
        /// The node's `k`-th input (inputs 0 and 1 are the GEMM's left and right operands).
        case input(Int)
        /// The matrix product (after the initializer and the GEMM).
        case product
        /// The result of epilogue op `k`.
        case member(Int)
    }

    /// Whether the GEMM adds onto the product's starting value (`matmulAccumulate`, beta 1) instead of overwriting it.
    public var accumulate: Bool
    /// The op writing the product's starting value before the GEMM accumulates onto it (a broadcast bias `copy`, a
    /// `fill`), with its operands; nil for a plain product.
    public var initializer: OpKind?
    /// The initializer's operands.
    public var initializerOperands: [Operand]
    /// The element-wise ops applied after the product, in order.
    public var ops: [OpKind]
    /// Each op's operands, in the op's order.
    public var operands: [[Operand]]
    /// The values the node writes to memory, in the order of its writes: `.product` or `.member(k)` (values read by
    /// other nodes, outputs and gradients); the others live only in per-block scratch.
    public var outputs: [Operand]

    /// Whether the group is a linear layer's forward as `Backend.linearEpilogue` computes it: the product written
    /// over its output, or added onto a copied starting value (the bias); then a residual added; then a ReLU; the
    /// last two optional, and only the last value written out. nil for any other group; else which epilogue ops it has.
    package var linearLayerForm: (residual: Bool, relu: Bool)? {
        let last: Operand = ops.isEmpty ? .product : .member(ops.count - 1)
        guard outputs == [last] else { return nil }
        if let initializer {
            guard accumulate, initializer == .copy, initializerOperands.count == 1,
                  case .input(let k) = initializerOperands[0], k >= 2 else { return nil }
        } else if accumulate {
            return nil
        }
        var residual = false, relu = false, value = Operand.product
        for (k, op) in ops.enumerated() {
            let args = operands[k]
            switch op {
            case .binary(.add) where !residual && !relu && args.count == 2 && args.contains(value):
                guard case .input(let i) = args[args[0] == value ? 1 : 0], i >= 2 else { return nil }
                residual = true
            case .unary(.relu) where !relu && args == [value]:
                relu = true
            default:
                return nil
            }
            value = .member(k)
        }
        return (residual, relu)
    }

    /// `matmulAccumulateEpilogue[copy(in2) → acc, relu(acc)] → m0`.
    public var description: String {
        func name(_ a: Operand) -> String {
            switch a {
            case .input(let k): return "in\(k)"
            case .product: return "acc"
            case .member(let k): return "m\(k)"
            }
        }
        func call(_ op: OpKind, _ args: [Operand]) -> String { "\(op)(" + args.map(name).joined(separator: ", ") + ")" }
        var parts: [String] = []
        if let initializer { parts.append(call(initializer, initializerOperands) + " → acc") }
        parts.append(contentsOf: zip(ops, operands).map(call))
        return "\(accumulate ? "matmulAccumulate" : "matmul")Epilogue[" + parts.joined(separator: ", ") + "] → "
            + outputs.map(name).joined(separator: ", ")
    }
}
