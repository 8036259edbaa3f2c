/// The 32-bit Mersenne Twister MT19937 (Matsumoto and Nishimura, 1998), PyTorch's CPU engine.
///
/// Seeded as `std::mt19937` and `at::mt19937`: the low 32 bits of the seed initialise the state.
struct MersenneTwister: Sendable, Equatable {
    static let size = 624
    private static let shift = 397
    private static let matrix: UInt32 = 0x9908_B0DF

    /// The 624 words of state.
    private(set) var words: [UInt32]
    /// The next word of `words` to temper; `size` means the state must be twisted first.
    private(set) var index: Int

    /// A twister seeded with the low 32 bits of `seed`.
    init(seed: UInt64) {
        var w = [UInt32](repeating: 0, count: Self.size)
        w[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<Self.size {
            w[i] = 1_812_433_253 &* (w[i - 1] ^ (w[i - 1] >> 30)) &+ UInt32(i)
        }
        words = w
        index = Self.size
    }

    /// A twister restored from `words` and `index`, or nil when they cannot be a state.
    init?(words: [UInt32], index: Int) {
        guard words.count == Self.size, (0...Self.size).contains(index) else { return nil }
        self.words = words
        self.index = index
    }

    /// The next 32 random bits (`random()` of PyTorch's CPU generator).
    mutating func next() -> UInt32 {
        if index >= Self.size { twist() }
        var y = words[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// The next 64 random bits: two words, the first one high (`random64()`).
    mutating func next64() -> UInt64 {
        let hi = UInt64(next())
        return hi << 32 | UInt64(next())
    }

    private mutating func twist() {
        let n = Self.size, m = Self.shift
        words.withUnsafeMutableBufferPointer { w in
            for i in 0..<n {
                let y = (w[i] & 0x8000_0000) | (w[(i + 1) % n] & 0x7FFF_FFFF)
                w[i] = w[(i + m) % n] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : Self.matrix)
            }
        }
        index = 0
    }
}
