/// Runs modules one after another, as `torch.nn.Sequential`.
///
/// ```swift
/// let mlp = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
/// let named = Sequential(["fc1": Linear(4, 8), "act": ReLU()])   // ordered
/// let built = Sequential { Linear(4, 8); ReLU(); Linear(8, 1) }
/// ```
public final class Sequential: Module {
    /// The entries with their names ("0", "1", ... when positional).
    public private(set) var entries: [(String, Module)]

    /// Positional entries.
    // Disfavoured: in a file that also imports NablaKeras, a call both types accept means Keras' `Sequential`.
    @_disfavoredOverload
    public init(_ modules: Module...) {
        entries = modules.enumerated().map { ("\($0.offset)", $0.element) }
        super.init()
    }

    /// Positional entries from an array.
    // Disfavoured: in a file that also imports NablaKeras, a call both types accept means Keras' `Sequential`.
    @_disfavoredOverload
    public init(_ modules: [Module]) {
        entries = modules.enumerated().map { ("\($0.offset)", $0.element) }
        super.init()
    }

    /// Named entries, in the given order.
    public init(_ named: KeyValuePairs<String, Module>) {
        entries = named.map { ($0.key, $0.value) }
        super.init()
    }

    /// Entries from a result builder.
    public convenience init(@ModuleBuilder _ build: () -> [Module]) { self.init(build()) }

    /// Appends a module (named by its position).
    public func append(_ module: Module) { entries.append(("\(entries.count)", module)) }

    /// Number of entries.
    public var count: Int { entries.count }

    /// Entry `i` (negative counts from the end).
    public subscript(_ i: Int) -> Module { entries[i < 0 ? i + entries.count : i].1 }

    /// Replaces entry `i` (finetuning: swap the head).
    public func set(_ i: Int, _ module: Module) {
        let k = i < 0 ? i + entries.count : i
        entries[k].1 = module
    }

    /// The entries, in order.
    public override func namedChildren() -> [(String, Module)] { entries }

    /// Applies each entry in turn.
    public override func forward(_ input: Tensor) -> Tensor {
        var x = input
        for (_, m) in entries { x = m(x) }
        return x
    }
}

/// Builds arrays of modules with Swift's result-builder syntax (`Sequential { ... }`).
@resultBuilder
public enum ModuleBuilder {
    /// Collects the modules of a block.
    public static func buildBlock(_ parts: [Module]...) -> [Module] { parts.flatMap { $0 } }
    /// One module.
    public static func buildExpression(_ m: Module) -> [Module] { [m] }
    /// An optional part.
    public static func buildOptional(_ m: [Module]?) -> [Module] { m ?? [] }
    /// One branch of an if/else.
    public static func buildEither(first m: [Module]) -> [Module] { m }
    /// The other branch of an if/else.
    public static func buildEither(second m: [Module]) -> [Module] { m }
    /// A for loop.
    public static func buildArray(_ parts: [[Module]]) -> [Module] { parts.flatMap { $0 } }
}

/// A list of modules registered as children (`torch.nn.ModuleList`).
public final class ModuleList: Module {
    /// The modules.
    public private(set) var items: [Module]
    /// Creates the list.
    public init(_ items: [Module] = []) { self.items = items; super.init() }
    /// Appends a module.
    public func append(_ m: Module) { items.append(m) }
    /// Number of modules.
    public var count: Int { items.count }
    /// Module `i`.
    public subscript(_ i: Int) -> Module { items[i] }
    /// Children named by position.
    public override func namedChildren() -> [(String, Module)] { items.enumerated().map { ("\($0.offset)", $0.element) } }
}

/// An ordered dictionary of modules registered as children (`torch.nn.ModuleDict`).
public final class ModuleDict: Module {
    /// The entries, in insertion order.
    public private(set) var entries: [(String, Module)]
    /// Creates the dictionary.
    public init(_ entries: KeyValuePairs<String, Module> = [:]) { self.entries = entries.map { ($0.key, $0.value) }; super.init() }
    /// The module named `key`; setting replaces or appends.
    public subscript(_ key: String) -> Module? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            if let i = entries.firstIndex(where: { $0.0 == key }) {
                if let newValue { entries[i].1 = newValue } else { entries.remove(at: i) }
            } else if let newValue { entries.append((key, newValue)) }
        }
    }
    /// Keys in order.
    public var keys: [String] { entries.map(\.0) }
    /// Children in insertion order.
    public override func namedChildren() -> [(String, Module)] { entries }
}
