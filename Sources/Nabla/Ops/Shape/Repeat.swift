// Copies that rearrange elements: repeat, tile, flip, roll.

extension Tensor {
    /// Repeats the tensor `sizes[i]` times along each dim (`Tensor.repeat`); extra leading sizes add dims.
    ///
    /// Built as an expand of interleaved size-1 dims and a copy, so the backward sums the copies.
    /// ```swift
    /// Tensor([1, 2]).repeat([2, 2])   // [[1, 2, 1, 2], [1, 2, 1, 2]]
    /// ```
    public func `repeat`(_ sizes: [Int]) -> Tensor {
        check(sizes.count >= rank, "repeat: number of repeat dims \(sizes.count) can not be smaller than number of tensor dims \(rank) (shape \(shape))")
        check(sizes.allSatisfy { $0 >= 0 }, "repeat: repeats must be non-negative, got \(sizes)")
        let padded = Array(repeating: 1, count: sizes.count - rank) + shape
        var interleaved: [Int] = [], expanded: [Int] = []
        for (s, r) in zip(padded, sizes) { interleaved += [1, s]; expanded += [r, s] }
        return reshape(interleaved).expand(expanded).contiguous().reshape(zip(padded, sizes).map { $0 * $1 })
    }
    /// Variadic `x.repeat(2, 3)`.
    public func `repeat`(_ sizes: Int...) -> Tensor { self.repeat(sizes) }

    /// Repeats the tensor along each dim, padding `dims` with leading 1s when shorter than the rank (`Tensor.tile`).
    public func tile(_ dims: [Int]) -> Tensor {
        self.repeat(Array(repeating: 1, count: Swift.max(0, rank - dims.count)) + dims)
    }

    /// Reverses the order of elements along `dims` (`Tensor.flip`), as a copy.
    public func flip(_ dims: [Int]) -> Tensor {
        let ds = Set(dims.map { Shape.normalize($0, rank, op: "flip") })
        check(ds.count == dims.count, "flip: dims has duplicates, original flip dims \(dims)")
        var st = strides, off = offset
        for d in ds where shape[d] > 0 { off += (shape[d] - 1) * st[d]; st[d] = -st[d] }
        let out = Tensor(empty: shape, dtype: dtype, device: device)
        if count > 0 { backend.copy(aliased(ViewGeometry(shape: shape, strides: st, offset: off)), into: out) }
        guard isRecording(self) else { return out }
        let list = Array(ds)
        return record(out, op: "FlipBackward", inputs: [self], jvp: { $0[0]!.flip(list) }) { g, _ in [g[0].flip(list)] }
    }
    /// Variadic `x.flip(0, 1)`.
    public func flip(_ dims: Int...) -> Tensor { flip(dims) }

    /// Rolls elements by `shifts[i]` along `dims[i]` (`Tensor.roll`); with no dims the tensor is rolled flattened.
    public func roll(shifts: [Int], dims: [Int] = []) -> Tensor {
        if dims.isEmpty {
            check(shifts.count == 1, "roll: with no dims, expected one shift, got \(shifts)")
            return flatten().roll(shifts: shifts, dims: [0]).reshape(shape)
        }
        check(shifts.count == dims.count, "roll: shifts \(shifts) and dims \(dims) must have the same length")
        let ds = dims.map { Shape.normalize($0, rank, op: "roll") }
        let out = noGrad { () -> Tensor in
            var t = self
            for (s, d) in zip(shifts, ds) where shape[d] > 0 {
                let n = shape[d], k = ((s % n) + n) % n
                if k != 0 { t = cat([t.narrow(d, start: n - k, length: k), t.narrow(d, start: 0, length: n - k)], dim: d) }
            }
            return t === self ? self.contiguousCopy() : t
        }
        guard isRecording(self) else { return out }
        let back = shifts.map { -$0 }
        return record(out, op: "RollBackward", inputs: [self], jvp: { $0[0]!.roll(shifts: shifts, dims: ds) }) { g, _ in
            [g[0].roll(shifts: back, dims: ds)]
        }
    }
    /// Rolls by `shifts` along `dim`, or the flattened tensor when `dim` is nil (`Tensor.roll`).
    public func roll(_ shifts: Int, dim: Int? = nil) -> Tensor {
        roll(shifts: [shifts], dims: dim.map { [$0] } ?? [])
    }
}

/// Repeats `input` along each dim (`torch.tile`).
public func tile(_ input: Tensor, _ dims: [Int]) -> Tensor { input.tile(dims) }
/// Reverses `input` along `dims` (`torch.flip`).
public func flip(_ input: Tensor, dims: [Int]) -> Tensor { input.flip(dims) }
/// Rolls `input` by `shifts` along `dims` (`torch.roll`).
public func roll(_ input: Tensor, shifts: [Int], dims: [Int] = []) -> Tensor { input.roll(shifts: shifts, dims: dims) }
