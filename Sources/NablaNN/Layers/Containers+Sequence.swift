// Iterating over container modules as PyTorch does: `for layer in blocks`, `for layer in model.features`,
// `for (name, layer) in heads`.

extension ModuleList: Sequence {
    /// The modules in order (PyTorch's `for layer in module_list`).
    ///
    /// ```swift
    /// let blocks = ModuleList([Linear(4, 4), Linear(4, 4)])
    /// var x = Tensor.randn(2, 4)
    /// for block in blocks { x = relu(block(x)) }
    /// ```
    public func makeIterator() -> IndexingIterator<[Module]> { items.makeIterator() }
    /// The number of modules.
    public var underestimatedCount: Int { items.count }
}

extension ModuleList {
    /// A list of the given modules (PyTorch's `nn.ModuleList([a, b])`, written without the brackets).
    public convenience init(_ first: Module, _ rest: Module...) { self.init([first] + rest) }
    /// Appends every module of `modules` (PyTorch's `extend`).
    public func extend(_ modules: [Module]) { for m in modules { append(m) } }
}

extension Sequential: Sequence {
    /// The entries' modules in order (PyTorch's `for layer in sequential`); `entries` also gives their names.
    public func makeIterator() -> IndexingIterator<[Module]> { entries.map(\.1).makeIterator() }
    /// The number of entries.
    public var underestimatedCount: Int { entries.count }
}

extension ModuleDict: Sequence {
    /// The `(name, module)` entries in insertion order (PyTorch's `for name, m in module_dict.items()`; iterate
    /// `keys` for the names alone, as PyTorch's plain `for name in module_dict`).
    ///
    /// ```swift
    /// let heads = ModuleDict(["cls": Linear(8, 10), "box": Linear(8, 4)])
    /// for (name, head) in heads { print(name, head(features).shape) }
    /// ```
    public func makeIterator() -> IndexingIterator<[(String, Module)]> { entries.makeIterator() }
    /// The number of entries.
    public var underestimatedCount: Int { entries.count }
    /// The modules in insertion order (PyTorch's `module_dict.values()`).
    public var values: [Module] { entries.map(\.1) }
    /// The `(name, module)` entries in insertion order (PyTorch's `module_dict.items()`).
    public func items() -> [(String, Module)] { entries }
    /// The number of entries (PyTorch's `len(module_dict)`).
    public var count: Int { entries.count }
}
