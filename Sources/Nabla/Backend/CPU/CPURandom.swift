extension CPUBackend {
    /// Fills `out` (contiguous) from `generator`. On Philox each element owns one block, so the values
    /// depend only on the generator's state, not on threads; on MT19937 the fill runs in order, as PyTorch's.
    public func random(_ kind: RandomKind, out: Tensor, generator: Generator) {
        check(out.isContiguous, "random: output must be contiguous")
        switch out.dtype {
        case .float32: fillRandom(kind, out, generator, Float.self)
        case .float64: fillRandom(kind, out, generator, Double.self)
        case .int32: fillRandom(kind, out, generator, Int32.self)
        case .int64: fillRandom(kind, out, generator, Int64.self)
        case .bool: fillRandom(kind, out, generator, Bool.self)
        }
    }

    private func fillRandom<T: TensorScalar>(_ kind: RandomKind, _ out: Tensor, _ generator: Generator, _: T.Type) {
        let n = out.count
        let p = out.storage.pointer(T.self) + out.offset
        let drawn = generator.draw(blocks: n, twister: { t, cache in TorchSampling.fill(kind, p, n, &t, &cache) })
        guard case .counters(let key, let start) = drawn else { return }
        let sample: (UInt64) -> Double
        switch kind {
        case .uniform(let lo, let hi):
            sample = { c in let w = Philox.block(key: key, counter: c); return lo + (hi - lo) * Philox.unitDouble(w.0, w.1) }
        case .normal(let mean, let std):
            sample = { c in
                let w = Philox.block(key: key, counter: c)
                let u1 = 1 - Philox.unitDouble(w.0, w.1), u2 = Philox.unitDouble(w.2, w.3)
                return mean + std * (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
            }
        case .bernoulli(let prob):
            sample = { c in let w = Philox.block(key: key, counter: c); return Philox.unitDouble(w.0, w.1) < prob ? 1 : 0 }
        case .randint(let lo, let hi):
            let span = UInt64(hi - lo)
            sample = { c in
                let w = Philox.block(key: key, counter: c)
                return Double(Int64(lo) + Int64(((UInt64(w.0) << 32) | UInt64(w.1)) % span))
            }
        }
        let chunks = Parallel.chunks(work: n * 8, items: n)
        let work: (Int) -> Void = { c in
            for i in (n * c / chunks)..<(n * (c + 1) / chunks) { p[i] = T(fromDouble: sample(start &+ UInt64(i))) }
        }
        if chunks <= 1 { work(0) } else { Parallel.forEach(chunks, work) }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
