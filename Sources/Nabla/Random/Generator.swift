import Synchronization

/// The algorithm behind a `Generator`.
public enum RandomEngine: String, Sendable, CaseIterable {
    /// Counter-based Philox-4x32-10 (the default): drawing `n` numbers reserves `n` counters, so
    /// kernels fill tensors in parallel and results depend only on the seed and the order of calls.
    case philox
    /// PyTorch's CPU generator, MT19937: with the same seed, `rand`, `uniform_`, `randn`, `normal_`,
    /// `randint`, `randperm`, `bernoulli_`, `Dropout` masks and the default layer initialisations
    /// draw the same numbers as PyTorch on the CPU. Fills run on one thread, in order.
    case mt19937
}

/// A seeded source of random numbers, as `torch.Generator`.
///
/// Safe to share between threads. The default engine is counter-based Philox; `.mt19937` reproduces
/// PyTorch's CPU streams, so a model ported from PyTorch starts from the very same weights and sees
/// the same shuffled batches.
///
/// ```swift
/// let g = Generator(seed: 42)
/// let a = Tensor.randn([3], generator: g)
///
/// manualSeed(0, engine: .mt19937)     // torch.manual_seed(0)
/// let b = Tensor.rand([3])            // [0.4963, 0.7682, 0.0885], as torch.rand(3)
/// ```
public final class Generator: Sendable {
    /// Everything a generator holds; which fields count depends on `engine`.
    struct State: Sendable {
        var seed: UInt64
        var engine: RandomEngine
        /// Philox: the next free counter.
        var counter: UInt64 = 0
        /// MT19937: the twister.
        var twister: MersenneTwister? = nil
        /// MT19937: the second value of the last Box–Muller pair, kept for the next scalar normal
        /// draw as PyTorch's `next_double_normal_sample`.
        var nextNormal: Double? = nil

        init(seed: UInt64, engine: RandomEngine) {
            self.seed = seed
            self.engine = engine
            if engine == .mt19937 { twister = MersenneTwister(seed: seed) }
        }
    }

    let state: Mutex<State>

    /// A generator seeded with `seed`, running `engine`.
    public init(seed: UInt64 = 0, engine: RandomEngine = .philox) { state = Mutex(State(seed: seed, engine: engine)) }

    /// The generator used when no generator is passed (`torch.default_generator`): the process-wide one,
    /// or the one `withDefault` set for the current task or thread.
    public static var `default`: Generator { scopedDefault ?? processDefault }

    private static let processDefault = Generator(seed: 0)
    @TaskLocal private static var scopedDefault: Generator?

    /// Runs `body` with `generator` as the default generator of the current task (or thread), leaving the
    /// process-wide one untouched: every random call in `body` without a `generator:` argument, layer
    /// initialisation included, draws from `generator`.
    ///
    /// ```swift
    /// let fc = Generator.withDefault(Generator(seed: 0, engine: .mt19937)) { Linear(784, 128) }
    /// // fc.weight == torch.manual_seed(0); nn.Linear(784, 128).weight
    /// ```
    public static func withDefault<R>(_ generator: Generator, _ body: () throws -> R) rethrows -> R {
        try $scopedDefault.withValue(generator, operation: body)
    }

    /// `withDefault(_:_:)` for asynchronous work: every random call in `body` and in the child tasks it creates
    /// draws from `generator`.
    public static func withDefault<R>(_ generator: Generator, _ body: () async throws -> R) async rethrows -> R {
        try await $scopedDefault.withValue(generator, operation: body)
    }

    /// The algorithm the generator runs.
    public var engine: RandomEngine { state.withLock { $0.engine } }

    /// Reseeds the generator and restarts its stream, keeping its engine (`manual_seed`).
    public func manualSeed(_ seed: UInt64) { state.withLock { $0 = State(seed: seed, engine: $0.engine) } }

    /// Reseeds the generator with `engine`.
    public func manualSeed(_ seed: UInt64, engine: RandomEngine) { state.withLock { $0 = State(seed: seed, engine: engine) } }

    /// The seed the generator was last seeded with (`initial_seed`).
    public var initialSeed: UInt64 { state.withLock { $0.seed } }

    /// Reserves `blocks` consecutive Philox counters; returns the key and the first counter.
    /// Only for the Philox engine: an MT19937 stream can only be read in order.
    public func reserve(blocks: Int) -> (key: UInt64, counter: UInt64) {
        state.withLock { s in
            check(s.engine == .philox, "Generator.reserve: counters exist only for the philox engine, this generator runs \(s.engine)")
            let start = s.counter
            s.counter &+= UInt64(max(blocks, 0))
            return (s.seed, start)
        }
    }

    /// What one draw gave: Philox counters for the caller to fill from, or the MT19937 work already done.
    enum Draw<R> {
        /// `blocks` Philox counters from `start` under `key`, reserved for the caller.
        case counters(key: UInt64, start: UInt64)
        /// The result of the MT19937 body.
        case drawn(R)
    }

    /// Under one lock, whatever the engine: reserves `blocks` Philox counters, or runs `body` on the MT19937
    /// state (and on the cached normal sample).
    func draw<R>(blocks: Int, twister body: (inout MersenneTwister, inout Double?) -> R) -> Draw<R> {
        state.withLock { s in
            switch s.engine {
            case .philox:
                let start = s.counter
                s.counter &+= UInt64(max(blocks, 0))
                return .counters(key: s.seed, start: start)
            case .mt19937:
                var t = s.twister!
                s.twister = nil  // keeps the words uniquely referenced while `body` mutates them
                defer { s.twister = t }
                return .drawn(body(&t, &s.nextNormal))
            }
        }
    }

    /// A uniform double in [0, 1).
    public func nextUnit() -> Double {
        switch draw(blocks: 1, twister: { t, _ in TorchSampling.unitDouble(t.next64()) }) {
        case .drawn(let u): return u
        case .counters(let key, let start):
            let w = Philox.block(key: key, counter: start)
            return Philox.unitDouble(w.0, w.1)
        }
    }

    /// A uniform integer in `0..<bound`.
    public func nextInt(below bound: Int) -> Int {
        check(bound > 0, "Generator.nextInt: bound must be positive, got \(bound)")
        return min(Int(nextUnit() * Double(bound)), bound - 1)
    }

    /// A generator derived from this one for worker `index` (DataLoader workers, threads), on the same engine.
    public func derived(_ index: Int) -> Generator {
        let s = initialSeed
        return Generator(seed: s &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: index) &+ 1, engine: engine)
    }
}

/// Seeds the default generator (`torch.manual_seed`), keeping its engine.
public func manualSeed(_ seed: UInt64) { Generator.default.manualSeed(seed) }

/// Seeds the default generator and selects its engine: `manualSeed(0, engine: .mt19937)` makes the
/// following random calls draw what `torch.manual_seed(0)` makes PyTorch's draw on the CPU.
public func manualSeed(_ seed: UInt64, engine: RandomEngine) { Generator.default.manualSeed(seed, engine: engine) }
