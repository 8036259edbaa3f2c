import Synchronization

/// A seeded source of random numbers, as `torch.Generator`.
///
/// Counter-based (Philox): drawing `n` numbers reserves `n` counters, so kernels fill tensors in
/// parallel and results depend only on the seed and the order of calls. Safe to share between threads.
///
/// ```swift
/// let g = Generator(seed: 42)
/// let a = Tensor.randn([3], generator: g)
/// ```
public final class Generator: Sendable {
    private let state: Mutex<(seed: UInt64, counter: UInt64)>

    /// A generator seeded with `seed`.
    public init(seed: UInt64 = 0) { state = Mutex((seed, 0)) }

    /// The process-wide default generator used when no generator is passed (`torch.default_generator`).
    public static let `default` = Generator(seed: 0)

    /// Reseeds the generator and restarts its stream (`manual_seed`).
    public func manualSeed(_ seed: UInt64) { state.withLock { $0 = (seed, 0) } }

    /// The seed the generator was last seeded with (`initial_seed`).
    public var initialSeed: UInt64 { state.withLock { $0.seed } }

    /// Reserves `blocks` consecutive Philox counters; returns the key and the first counter.
    public func reserve(blocks: Int) -> (key: UInt64, counter: UInt64) {
        state.withLock { s in
            let start = s.counter
            s.counter &+= UInt64(max(blocks, 0))
            return (s.seed, start)
        }
    }

    /// The generator's full state (seed and position), for checkpoints (`get_state`).
    public var stateValue: [UInt64] { state.withLock { [$0.seed, $0.counter] } }

    /// Restores a state from `stateValue` (`set_state`).
    public func setState(_ value: [UInt64]) {
        check(value.count == 2, "Generator.setState: expected [seed, counter], got \(value.count) values")
        state.withLock { $0 = (value[0], value[1]) }
    }

    /// A uniform double in [0, 1).
    public func nextUnit() -> Double {
        let r = reserve(blocks: 1)
        let w = Philox.block(key: r.key, counter: r.counter)
        return Philox.unitDouble(w.0, w.1)
    }

    /// A uniform integer in `0..<bound`.
    public func nextInt(below bound: Int) -> Int {
        check(bound > 0, "Generator.nextInt: bound must be positive, got \(bound)")
        return min(Int(nextUnit() * Double(bound)), bound - 1)
    }

    /// A generator derived from this one for worker `index` (DataLoader workers, threads).
    public func derived(_ index: Int) -> Generator {
        let s = initialSeed
        return Generator(seed: s &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: index) &+ 1)
    }
}

/// Seeds the default generator (`torch.manual_seed`).
public func manualSeed(_ seed: UInt64) { Generator.default.manualSeed(seed) }
