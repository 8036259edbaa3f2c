import Synchronization

/// A process-wide table of factories by name that programs may extend: the one registry behind the
/// layer names of `nabla train` configs (`LayerSpec.register`) and the layer classes of saved Keras
/// models (`LayerRegistry.register`).
///
/// ```swift
/// let shapes = NamedRegistry<@Sendable (Int) -> [Int]>(["square": { [$0, $0] }])
/// shapes.register("row") { [1, $0] }
/// shapes["row"]?(3)     // [1, 3]
/// shapes.names          // ["row", "square"]
/// ```
public final class NamedRegistry<Factory: Sendable>: Sendable {
    private let table: Mutex<[String: Factory]>

    /// Creates a registry holding `builtins`.
    public init(_ builtins: [String: Factory] = [:]) {
        table = Mutex(builtins)
    }

    /// Registers (or replaces) the factory for `name`.
    public func register(_ name: String, _ factory: Factory) {
        table.withLock { $0[name] = factory }
    }

    /// The factory registered for `name`, nil when none is.
    public subscript(name: String) -> Factory? {
        table.withLock { $0[name] }
    }

    /// Whether a factory is registered for `name`.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// The registered names, sorted.
    public var names: [String] { table.withLock { $0.keys.sorted() } }
}
