import Nabla
import Testing

/// A test trait that runs each case of a test with a default generator of its own, seeded with `seed`
/// (`@Test(.seeded(11))`), instead of calling `manualSeed` on the process-wide generator: suites run in parallel,
/// and a draw by another suite between a test's `manualSeed` and its own draws would change its data or weights.
public struct SeededTrait: TestTrait, TestScoping {
    /// The seed of the test's generator (Philox, as the process-wide default).
    public let seed: UInt64

    /// Runs the test case with `Generator(seed: seed)` as the default generator of its task.
    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await Generator.withDefault(Generator(seed: seed)) { try await function() }
    }
}

extension Trait where Self == SeededTrait {
    /// Runs the test with a default generator of its own seeded with `seed` (see `SeededTrait`).
    public static func seeded(_ seed: UInt64) -> Self { SeededTrait(seed: seed) }
}
