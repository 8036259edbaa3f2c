// Einstein summation, lowered to diagonal views, sums, permutes/reshapes, broadcasting multiplies and
// batched matmul, so autograd comes from those ops.

/// Einstein summation over `operands` as described by `equation` (`torch.einsum`).
///
/// Supports explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`: the letters seen once, sorted, uppercase
/// first) outputs, repeated letters within one operand (`"ii->i"` diagonal, `"ii"` trace), `...` for
/// broadcast leading dims, size-1 dims broadcasting against any size, and any number of operands
/// (contracted pairwise from left to right).
/// ```swift
/// let c = einsum("ij,jk->ik", a, b)            // matmul
/// let t = einsum("ii", m)                      // trace
/// let y = einsum("...ij,...jk->...ik", x, w)   // batched matmul
/// ```
/// - Precondition: the equation is well formed and matches the operands' ranks and sizes; otherwise
///   it stops with a message naming einsum, the equation and the problem.
public func einsum(_ equation: String, _ operands: [Tensor]) -> Tensor {
    let spec = EinsumSpec(equation, operands)
    var items = zip(operands, spec.inputs).map { t, l in EinsumTerm(tensor: t, labels: l) }
    // Diagonals for letters repeated within an operand, then sum letters no one else needs.
    for k in items.indices {
        items[k] = items[k].takingDiagonals(spec)
        var needed = Set(spec.output)
        for j in items.indices where j != k { needed.formUnion(items[j].labels) }
        items[k] = items[k].summing { !needed.contains($0) }
    }
    var result = items[0]
    for k in 1..<max(items.count, 1) {
        var keep = Set(spec.output)
        for j in (k + 1)..<items.count { keep.formUnion(items[j].labels) }
        result = EinsumTerm.contract(result, items[k], keep: keep)
    }
    let outputSet = Set(spec.output)
    result = result.summing { !outputSet.contains($0) }
    let perm = spec.output.map { l in result.labels.firstIndex(of: l)! }
    return perm == Array(0..<perm.count) ? result.tensor : result.tensor.permute(perm)
}

/// Variadic `einsum("ij,jk->ik", a, b)`.
public func einsum(_ equation: String, _ operands: Tensor...) -> Tensor { einsum(equation, operands) }

/// A parsed equation: one integer label per operand dim (letters 0..<52, ellipsis dims from 52) and the output labels.
struct EinsumSpec {
    var inputs: [[Int]] = []
    var output: [Int] = []
    let equation: String

    static func label(_ c: Character) -> Int? {
        guard let a = c.asciiValue else { return nil }
        if a >= 65 && a <= 90 { return Int(a) - 65 }
        if a >= 97 && a <= 122 { return Int(a) - 97 + 26 }
        return nil
    }

    static func letter(_ l: Int) -> String {
        l < 52 ? String(UnicodeScalar(UInt8(l < 26 ? 65 + l : 97 + l - 26))) : "..."
    }

    /// Letters of one term and where its ellipsis sits (letter count before it), or traps.
    static func parseTerm(_ term: Substring, equation: String) -> (letters: [Int], ellipsisAt: Int?) {
        var letters: [Int] = []
        var ellipsis: Int? = nil
        var chars = Array(term)[...]
        while let c = chars.first {
            if c == "." {
                check(chars.starts(with: ["." , ".", "."]), "einsum: equation '\(equation)': found '.' that is not part of an ellipsis '...' in term '\(term)'")
                check(ellipsis == nil, "einsum: equation '\(equation)': more than one ellipsis '...' in term '\(term)'")
                ellipsis = letters.count
                chars = chars.dropFirst(3)
                continue
            }
            guard let l = label(c) else {
                nablaFail("einsum: equation '\(equation)': invalid subscript '\(c)' in term '\(term)'; subscripts must be letters in [a-zA-Z] or '...'")
            }
            letters.append(l)
            chars = chars.dropFirst()
        }
        return (letters, ellipsis)
    }

    init(_ equation: String, _ operands: [Tensor]) {
        self.equation = equation
        let eq = equation.filter { !$0.isWhitespace }
        check(!operands.isEmpty, "einsum: equation '\(equation)': expected at least one operand")
        let sides = eq.components(separatedBy: "->")
        check(sides.count <= 2, "einsum: equation '\(equation)': more than one '->'")
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false)
        check(terms.count == operands.count,
              "einsum: equation '\(equation)' has \(terms.count) operand term\(terms.count == 1 ? "" : "s") but \(operands.count) operand\(operands.count == 1 ? " was" : "s were") given")
        let parsed = terms.map { EinsumSpec.parseTerm($0, equation: equation) }
        var ellipsisDims = 0
        for (k, (p, t)) in zip(parsed, operands).enumerated() {
            if p.ellipsisAt != nil {
                check(t.rank >= p.letters.count,
                      "einsum: equation '\(equation)': operand \(k) has \(t.rank) dims (shape \(t.shape)) but its term '\(terms[k])' names at least \(p.letters.count)")
                ellipsisDims = Swift.max(ellipsisDims, t.rank - p.letters.count)
            } else {
                check(t.rank == p.letters.count,
                      "einsum: equation '\(equation)': operand \(k) has \(t.rank) dims (shape \(t.shape)) but its term '\(terms[k])' names \(p.letters.count)")
            }
        }
        for (p, t) in zip(parsed, operands) {
            guard let at = p.ellipsisAt else { inputs.append(p.letters); continue }
            let e = t.rank - p.letters.count
            inputs.append(Array(p.letters[..<at]) + Array((52 + ellipsisDims - e)..<(52 + ellipsisDims)) + Array(p.letters[at...]))
        }
        let ellipsisLabels = Array(52..<(52 + ellipsisDims))
        if sides.count == 2 {
            let o = EinsumSpec.parseTerm(Substring(sides[1]), equation: equation)
            check(Set(o.letters).count == o.letters.count, "einsum: equation '\(equation)': output subscript '\(sides[1])' repeats a letter")
            let seen = Set(parsed.flatMap(\.letters))
            for l in o.letters {
                check(seen.contains(l), "einsum: equation '\(equation)': output subscript '\(EinsumSpec.letter(l))' does not appear in any input term")
            }
            if let at = o.ellipsisAt { output = Array(o.letters[..<at]) + ellipsisLabels + Array(o.letters[at...]) }
            else { output = o.letters }
        } else {
            var counts = [Int](repeating: 0, count: 52)
            for p in parsed { for l in p.letters { counts[l] += 1 } }
            output = ellipsisLabels + (0..<52).filter { counts[$0] == 1 }
        }
        checkSizes(operands)
    }

    /// Every label has one size across operands (or size 1, which broadcasts); repeated labels in one operand match exactly.
    func checkSizes(_ operands: [Tensor]) {
        var size = [Int: (Int, Int)]()   // label -> (size, operand)
        for (k, (labels, t)) in zip(inputs, operands).enumerated() {
            var local = [Int: Int]()
            for (i, l) in labels.enumerated() {
                let s = t.shape[i]
                if let prev = local[l] {
                    check(prev == s, "einsum: equation '\(equation)': subscript '\(EinsumSpec.letter(l))' is repeated for operand \(k) but the sizes don't match, \(prev) != \(s) (shape \(t.shape))")
                }
                local[l] = s
                if let (p, pk) = size[l], p != s, p != 1, s != 1 {
                    nablaFail("einsum: equation '\(equation)': subscript '\(EinsumSpec.letter(l))' has size \(p) for operand \(pk) which does not broadcast with size \(s) for operand \(k) (shapes \(operands[pk].shape) and \(t.shape))")
                }
                if size[l] == nil || size[l]!.0 == 1 { size[l] = (s, k) }
            }
        }
    }
}

/// One operand during lowering: a tensor and the label of each of its dims.
struct EinsumTerm {
    var tensor: Tensor
    var labels: [Int]

    /// Replaces every pair of equal labels with their diagonal (appended last, as `diagonal` does).
    func takingDiagonals(_ spec: EinsumSpec) -> EinsumTerm {
        var t = tensor, l = labels
        while let (p, q) = EinsumTerm.repeatedPair(l) {
            t = t.diagonal(dim1: p, dim2: q)
            let label = l[p]
            l.remove(at: q); l.remove(at: p); l.append(label)
        }
        return EinsumTerm(tensor: t, labels: l)
    }

    static func repeatedPair(_ l: [Int]) -> (Int, Int)? {
        for i in 0..<l.count { for j in (i + 1)..<l.count where l[i] == l[j] { return (i, j) } }
        return nil
    }

    /// Sums the dims whose label satisfies `drop`.
    func summing(_ drop: (Int) -> Bool) -> EinsumTerm {
        let dims = labels.indices.filter { drop(labels[$0]) }
        if dims.isEmpty { return self }
        return EinsumTerm(tensor: tensor.sum(dims: dims), labels: labels.enumerated().filter { !dims.contains($0.offset) }.map(\.element))
    }

    func size(_ label: Int) -> Int { tensor.shape[labels.firstIndex(of: label)!] }

    /// Contracts two operands, keeping the labels in `keep`: shared kept labels are batch dims, shared
    /// dropped labels are summed by a batched matmul (or a broadcasting multiply when none are shared).
    static func contract(_ x: EinsumTerm, _ y: EinsumTerm, keep: Set<Int>) -> EinsumTerm {
        var a = x.summing { !keep.contains($0) && !y.labels.contains($0) }
        var b = y.summing { !keep.contains($0) && !x.labels.contains($0) }
        // A contracted label of size 1 on one side broadcasts: sum it out on both sides separately.
        let mismatched = Set(a.labels.filter { b.labels.contains($0) && !keep.contains($0) && a.size($0) != b.size($0) })
        if !mismatched.isEmpty {
            a = a.summing { mismatched.contains($0) }
            b = b.summing { mismatched.contains($0) }
        }
        let batch = a.labels.filter { b.labels.contains($0) && keep.contains($0) }
        let summed = a.labels.filter { b.labels.contains($0) && !keep.contains($0) }
        let aOnly = a.labels.filter { !b.labels.contains($0) }
        let bOnly = b.labels.filter { !a.labels.contains($0) }
        func positions(_ t: EinsumTerm, _ ls: [Int]) -> [Int] { ls.map { t.labels.firstIndex(of: $0)! } }
        func sizes(_ t: EinsumTerm, _ ls: [Int]) -> [Int] { ls.map { t.size($0) } }
        let batchA = sizes(a, batch), batchB = sizes(b, batch)
        let aSizes = sizes(a, aOnly), bSizes = sizes(b, bOnly)
        let at = a.tensor.permute(positions(a, batch + aOnly + summed))
        let bt = b.tensor.permute(positions(b, batch + summed + bOnly))
        let out: Tensor
        if summed.isEmpty {
            let a2 = at.reshape(batchA + aSizes + [Int](repeating: 1, count: bOnly.count))
            let b2 = bt.reshape(batchB + [Int](repeating: 1, count: aOnly.count) + bSizes)
            out = a2 * b2
        } else {
            let k = sizes(a, summed).reduce(1, *)
            let m = aSizes.reduce(1, *), n = bSizes.reduce(1, *)
            let product = Nabla.matmul(at.reshape(batchA + [m, k]), bt.reshape(batchB + [k, n]))
            let batchOut = zip(batchA, batchB).map { $0 == 1 ? $1 : $0 }
            out = product.reshape(batchOut + aSizes + bSizes)
        }
        return EinsumTerm(tensor: out, labels: batch + aOnly + bOnly)
    }
}
