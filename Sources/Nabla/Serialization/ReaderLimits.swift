import Synchronization

/// Bounds every reader of outside input checks before it allocates: header sizes, element counts,
/// decompressed sizes and JSON nesting, so that a malformed or hostile file throws instead of
/// exhausting memory.
///
/// The defaults fit every real dataset and checkpoint Nabla ships for; raise them for larger files,
/// process-wide or for one block of code (in the current task, which other tasks and threads do not see):
/// ```swift
/// ReaderLimits.current.maxElements = 1 << 34          // from now on
/// let big = try ReaderLimits.with(.init(maxElements: 1 << 34)) { try loadSafetensors(from: "llm.safetensors") }
/// ```
public struct ReaderLimits: Sendable, Equatable {
    /// The largest header a reader accepts: a safetensors JSON header, a `.npy` dict, a zip directory, a saved
    /// model's architecture JSON (100 MB, as Python's `safetensors`).
    public var maxHeaderBytes: Int
    /// The most elements of one tensor, and of the product of a shape's non-zero dimensions (2^30: 4 GiB of float32).
    public var maxElements: Int
    /// The most bytes a compressed file (gzip, a deflated `.npz` member) may inflate to (2 GiB).
    public var maxDecompressedBytes: Int
    /// The deepest nesting of JSON a reader parses (64 levels).
    public var maxJSONDepth: Int

    /// Limits with the given values (defaults for the others).
    public init(maxHeaderBytes: Int = 100_000_000, maxElements: Int = 1 << 30, maxDecompressedBytes: Int = 1 << 31,
                maxJSONDepth: Int = 64) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxElements = maxElements
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxJSONDepth = maxJSONDepth
    }

    /// The safe defaults.
    public static let defaults = ReaderLimits()

    private static let storage = Mutex(ReaderLimits())
    @TaskLocal private static var scoped: ReaderLimits?

    /// The limits readers use now: those of an enclosing `with(_:_:)` in this task, else the process-wide ones,
    /// which assigning sets.
    public static var current: ReaderLimits {
        get { scoped ?? storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    /// Runs `body` with `limits` in force for the readers it calls in this task (not for other tasks or threads,
    /// such as data loader workers, which use `current`).
    public static func with<R>(_ limits: ReaderLimits, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(limits) { try body() }
    }

    /// Why `shape` is not acceptable from a file, or nil: a negative dimension, or dimensions whose product
    /// (zero dimensions counted as 1, so that `[0, 2^40, 2^40]` is refused too) exceeds `maxElements`.
    public func shapeProblem(_ shape: [Int]) -> String? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return "shape \(shape) has a negative dimension" }
            let (p, o) = n.multipliedReportingOverflow(by: Swift.max(d, 1))
            guard !o, p <= maxElements else {
                return "shape \(shape) exceeds the limit of \(maxElements) elements (ReaderLimits.maxElements)"
            }
            n = p
        }
        return nil
    }

    /// The element count of `shape`, or nil when `shapeProblem(shape)` is not nil.
    public func elementCount(_ shape: [Int]) -> Int? {
        guard shapeProblem(shape) == nil else { return nil }
        return shape.reduce(1, *)
    }
}
