/// Element-wise nodes fused into one node (`OpKind.fused`): their ops, in order, and where each reads its operands.
///
/// Member `k` computes `ops[k]` from `operands[k]`; an operand is one of the fused node's inputs or the result of an
/// earlier member. The last member's result is the node's output. No member's result lives in memory beyond a tile:
/// the node runs the members one cache-sized tile of the output after another (`FusedKernel`).
public struct FusedProgram: Hashable, Sendable, CustomStringConvertible {
    /// Where a member finds one operand.
    public enum Operand: Hashable, Sendable {
        /// The fused node's `k`-th input.
        case input(Int)
        /// The result of member `k`.
        case member(Int)
    }

    /// Each member's op (element-wise).
    public var ops: [OpKind]
    /// Each member's operands, in the op's order.
    public var operands: [[Operand]]

    /// `[mul(in0, in1), add(m0, in2), relu(m1)]`.
    public var description: String {
        let parts = zip(ops, operands).map { op, args in
            "\(op)(" + args.map { a -> String in
                switch a {
                case .input(let k): return "in\(k)"
                case .member(let k): return "m\(k)"
                }
            }.joined(separator: ", ") + ")"
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
