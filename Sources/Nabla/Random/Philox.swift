/// The Philox-4x32-10 counter-based generator (Salmon et al., 2011), as used by cuRAND and JAX.
///
/// Each (key, counter) pair maps to four independent 32-bit words, so a kernel that reserved a
/// counter range can fill any part of a tensor without sharing state: results never depend on threads.
struct Philox: Sendable {
    static let m0: UInt32 = 0xD251_1F53, m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9, w1: UInt32 = 0xBB67_AE85

    /// Four words for `counter` under `key`.
    static func block(key: UInt64, counter: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2: UInt32 = 0, c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: key), k1 = UInt32(truncatingIfNeeded: key >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(m0) &* UInt64(c0), p1 = UInt64(m1) &* UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
            k0 = k0 &+ w0; k1 = k1 &+ w1
        }
        return (c0, c1, c2, c3)
    }

    /// A float in [0, 1) from 24 random bits.
    static func unitFloat(_ w: UInt32) -> Float { Float(w >> 8) * (1.0 / 16_777_216.0) }
    /// A double in [0, 1) from 53 random bits.
    static func unitDouble(_ a: UInt32, _ b: UInt32) -> Double {
        Double((UInt64(a) << 21) ^ UInt64(b >> 11)) * (1.0 / 9_007_199_254_740_992.0)
    }
}
