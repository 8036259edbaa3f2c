import RealModule

/// PyTorch's CPU sampling transforms on an MT19937 stream (`at::uniform_real_distribution`,
/// `normal_fill`, `at::normal_distribution<double>`, `random_from_to`, `randperm_cpu`), so that a
/// `.mt19937` generator draws the numbers PyTorch draws from the same seed.
enum TorchSampling {
    /// A float in [0, 1) from the low 24 bits of one word.
    @inline(__always) static func unitFloat(_ r: UInt32) -> Float { Float(r & 0xFF_FFFF) * (1.0 / 16_777_216.0) }
    /// A double in [0, 1) from the low 53 bits of two words.
    @inline(__always) static func unitDouble(_ r: UInt64) -> Double {
        Double(r & 0x1F_FFFF_FFFF_FFFF) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Fills `p[0..<n]` with `kind` in PyTorch's order, converting through `T(fromDouble:)` for integer
    /// and boolean tensors.
    static func fill<T: TensorScalar>(_ kind: RandomKind, _ p: UnsafeMutablePointer<T>, _ n: Int,
                                      _ t: inout MersenneTwister, _ nextNormal: inout Double?) {
        switch kind {
        case .uniform(let lo, let hi):
            if T.self == Float.self {
                let q = UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
                let from = Float(lo), span = Float(hi) - Float(lo)
                for i in 0..<n { q[i] = from.addingProduct(unitFloat(t.next()), span) }
            } else {
                let span = hi - lo
                for i in 0..<n { p[i] = T(fromDouble: lo.addingProduct(unitDouble(t.next64()), span)) }
            }
        case .normal(let mean, let std):
            if n >= 16, T.self == Float.self {
                normalFill(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self), n, Float(mean), Float(std), &t)
            } else if n >= 16, T.self == Double.self {
                normalFill(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self), n, mean, std, &t)
            } else {
                for i in 0..<n { p[i] = T(fromDouble: normal(mean, std, &t, &nextNormal)) }
            }
        case .bernoulli(let prob):
            for i in 0..<n { p[i] = T(fromDouble: unitDouble(t.next64()) < prob ? 1 : 0) }
        case .randint(let lo, let hi):
            let range = UInt64(hi - lo)
            for i in 0..<n {
                let r = range >= 1 << 32 ? t.next64() : UInt64(t.next())
                p[i] = T(fromDouble: Double(Int64(lo) &+ Int64(r % range)))
            }
        }
    }

    /// `normal_fill`: `n` (≥ 16) uniforms, turned into normals 16 at a time by Box–Muller; when `n`
    /// is not a multiple of 16, the last 16 are drawn afresh and transformed again.
    private static func normalFill<F: Real & BinaryFloatingPoint>(_ p: UnsafeMutablePointer<F>, _ n: Int, _ mean: F, _ std: F,
                                                                  _ t: inout MersenneTwister) {
        func uniform() -> F { F.self == Float.self ? F(unitFloat(t.next())) : F(unitDouble(t.next64())) }
        func boxMuller16(_ d: UnsafeMutablePointer<F>) {
            for j in 0..<8 {
                let u1 = 1 - d[j], u2 = d[j + 8]
                let radius = (-2 * F.log(u1)).squareRoot()
                let theta = F(2.0 * Double.pi * Double(u2))
                d[j] = mean.addingProduct(radius * F.cos(theta), std)  // fused, as PyTorch's kernels
                d[j + 8] = mean.addingProduct(radius * F.sin(theta), std)
            }
        }
        for i in 0..<n { p[i] = uniform() }
        var i = 0
        while i + 16 <= n { boxMuller16(p + i); i += 16 }
        if n % 16 != 0 {
            for j in (n - 16)..<n { p[j] = uniform() }
            boxMuller16(p + n - 16)
        }
    }

    /// `at::normal_distribution<double>`: a Box–Muller pair from two uniforms, the second value kept
    /// for the next call.
    private static func normal(_ mean: Double, _ std: Double, _ t: inout MersenneTwister, _ cached: inout Double?) -> Double {
        if let z = cached {
            cached = nil
            return z * std + mean
        }
        let u1 = unitDouble(t.next64()), u2 = unitDouble(t.next64())
        let r = (-2 * Double.log(onePlus: -u2)).squareRoot()
        let theta = 2 * Double.pi * u1
        cached = r * Double.sin(theta)
        return r * Double.cos(theta) * std + mean
    }

    /// `randperm_cpu`: the identity, then for each `i` a swap with `i + random() % (n - i)`.
    static func permutation(_ n: Int, _ t: inout MersenneTwister) -> [Int] {
        check(n < Int(UInt32.max / 20), "randperm: the mt19937 engine follows PyTorch's algorithm for n < \(UInt32.max / 20), got n=\(n)")
        var perm = Array(0..<n)
        for i in 0..<max(n - 1, 0) {
            let z = Int(UInt64(t.next()) % UInt64(n - i))
            perm.swapAt(i, i + z)
        }
        return perm
    }
}
