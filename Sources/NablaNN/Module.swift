@_exported import Nabla

/// The base class of every layer and model, as `torch.nn.Module`.
///
/// Subclass it, store parameters (tensors made with `Parameter(...)`), buffers and submodules as
/// properties, and override `forward`. Parameters and submodules are found by reflection over the
/// stored properties (also inside arrays), in declaration order, giving PyTorch's dotted names:
///
/// ```swift
/// final class Net: Module {
///     let fc1 = Linear(784, 128), fc2 = Linear(128, 10)
///     override func forward(_ x: Tensor) -> Tensor { fc2(relu(fc1(x))) }
/// }
/// let net = Net()
/// net.namedParameters().map(\.0)   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
/// ```
/// Reflection runs only when you ask for parameters, modules or state — never on the forward path.
open class Module: CustomStringConvertible {
    /// Whether the module is in training mode (Dropout and BatchNorm behave differently in eval).
    public private(set) var training: Bool = true
    private var forwardHooks: [(id: Int, hook: (Module, Tensor, Tensor) -> Tensor?)] = []
    private var forwardPreHooks: [(id: Int, hook: (Module, Tensor) -> Tensor?)] = []
    private var nextHookID = 0
    /// Set by `compile()` / `hybridize()`: calls then run the compiled graph of the forward pass.
    var compiledForward: ModuleCompilation?

    /// Creates a module in training mode.
    public init() {}

    /// The computation of the module; subclasses override it.
    open func forward(_ input: Tensor) -> Tensor {
        nablaFail("\(typeName).forward: not overridden; subclasses of Module must override forward(_:)")
    }

    /// Runs forward-pre hooks, `forward`, then forward hooks (`module(x)`).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        if let c = compiledForward, !c.isRunningBody { return c.call([input])[0] }
        return callUncompiled(input)
    }

    /// Whether `module(x)` is exactly `forward(x)`: no hooks and no `compile()`, so a parent may fuse this module's
    /// computation with its neighbours' (a Transformer block's feed-forward GEMMs) without skipping anything.
    final var callsForwardDirectly: Bool { compiledForward == nil && forwardHooks.isEmpty && forwardPreHooks.isEmpty }

    /// The forward pass with its hooks, never through `compile()` (what tracing for ONNX export runs).
    public func callUncompiled(_ input: Tensor) -> Tensor {
        var x = input
        for (_, h) in forwardPreHooks { if let r = h(self, x) { x = r } }
        var y = forward(x)
        for (_, h) in forwardHooks { if let r = h(self, x, y) { y = r } }
        return y
    }

    /// The module's type name, as printed in `description`.
    public var typeName: String { String(describing: type(of: self)) }

    /// The arguments shown between parentheses in `description` (`in_features=784, ...`); layers override it.
    open var extraDescription: String { "" }

    // MARK: reflection

    /// Direct submodules with their attribute names (arrays give `name.0`, `name.1`, ...), in declaration order.
    open func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = []
        forEachStoredProperty { name, value in
            Module.collectModules(value, name: name, into: &out)
        }
        return out
    }

    /// This module's own parameters and buffers (not those of submodules) with their names, in declaration order.
    ///
    /// Names come from the stored properties, converted to PyTorch's snake_case (`runningMean` → `running_mean`).
    /// Layers whose tensors are not one property each (an LSTM's `weight_ih_l0`, `weight_ih_l1`, ...) override this.
    open func namedDirectTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        forEachStoredProperty { name, value in Module.collectTensors(value, name: name, into: &out) }
        return out
    }

    private func forEachStoredProperty(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let cur = m { mirrors.append(cur); m = cur.superclassMirror }
        for mirror in mirrors.reversed() where mirror.subjectType != Module.self {
            for child in mirror.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("$__lazy_storage_$_") { label.removeFirst("$__lazy_storage_$_".count) }
                if label.hasPrefix("_") && !label.hasPrefix("__") { label.removeFirst() }
                body(Module.snakeCase(label), child.value)
            }
        }
    }

    /// PyTorch's spelling of a Swift property name: `runningMean` → `running_mean`, `weightIhL0` → `weight_ih_l0`.
    public static func snakeCase(_ name: String) -> String {
        var out = ""
        var previous: Character? = nil
        for c in name {
            if c.isUppercase, let p = previous, p.isLowercase || p.isNumber { out.append("_") }
            out.append(contentsOf: c.lowercased())
            previous = c
        }
        return out
    }

    private static func unwrapOptional(_ value: Any) -> Any? {
        let m = Mirror(reflecting: value)
        guard m.displayStyle == .optional else { return value }
        return m.children.first.map { unwrapOptional($0.value) } ?? nil
    }

    static func collectModules(_ value: Any, name: String, into out: inout [(String, Module)]) {
        guard let v = unwrapOptional(value) else { return }
        if let mod = v as? Module { out.append((name, mod)); return }
        if let arr = v as? [Module] { for (i, m) in arr.enumerated() { out.append(("\(name).\(i)", m)) }; return }
        if let arr = v as? [Module?] { for (i, m) in arr.enumerated() { if let m { out.append(("\(name).\(i)", m)) } }; return }
        if let pairs = v as? [(String, Module)] { for (k, m) in pairs { out.append(("\(name).\(k)", m)) } }
    }

    static func collectTensors(_ value: Any, name: String, into out: inout [(String, Tensor)]) {
        guard let v = unwrapOptional(value) else { return }
        if let t = v as? Tensor { if t.isParameter || t.isBuffer { out.append((name, t)) }; return }
        if let arr = v as? [Tensor] {
            for (i, t) in arr.enumerated() where t.isParameter || t.isBuffer { out.append(("\(name).\(i)", t)) }
        }
    }

    /// Every module in the tree, this one first, with dotted names (`modules()` / `named_modules()`).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        var seen = Set<ObjectIdentifier>([ObjectIdentifier(self)])
        func walk(_ m: Module, _ p: String) {
            for (n, c) in m.namedChildren() where !seen.contains(ObjectIdentifier(c)) {
                seen.insert(ObjectIdentifier(c))
                let full = p.isEmpty ? n : p + "." + n
                out.append((full, c))
                walk(c, full)
            }
        }
        walk(self, prefix)
        return out
    }

    /// Every module in the tree, this one first (`modules()`).
    public func modules() -> [Module] { namedModules().map(\.1) }
    /// Direct submodules (`children()`).
    public func children() -> [Module] { namedChildren().map(\.1) }

    /// Parameters with dotted names (`named_parameters()`), shared parameters listed once.
    public func namedParameters() -> [(String, Tensor)] { namedTensors { $0.isParameter } }
    /// All parameters (`parameters()`), in a stable order.
    public func parameters() -> [Tensor] { namedParameters().map(\.1) }
    /// Buffers with dotted names (`named_buffers()`), e.g. BatchNorm running statistics.
    public func namedBuffers() -> [(String, Tensor)] { namedTensors { $0.isBuffer } }
    /// All buffers (`buffers()`).
    public func buffers() -> [Tensor] { namedBuffers().map(\.1) }

    private func namedTensors(_ keep: (Tensor) -> Bool) -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        var seen = Set<ObjectIdentifier>()
        for (prefix, m) in namedModules() {
            for (n, t) in m.namedDirectTensors() where keep(t) && !seen.contains(ObjectIdentifier(t)) {
                seen.insert(ObjectIdentifier(t))
                out.append((prefix.isEmpty ? n : prefix + "." + n, t))
            }
        }
        return out
    }

    // MARK: modes

    /// Sets training mode on this module and every submodule (`train(mode)`); returns `self`.
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for m in modules() { m.training = mode }
        return self
    }
    /// Sets evaluation mode (`eval()`); returns `self`.
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Calls `fn` on every module, children first then this one (`apply(fn)`); returns `self`.
    @discardableResult
    public func apply(_ fn: (Module) -> Void) -> Self {
        for m in modules().reversed() { fn(m) }
        return self
    }

    /// Turns gradient recording on or off for every parameter (`requires_grad_(flag)`), e.g. to freeze a body.
    @discardableResult
    public func requiresGrad(_ flag: Bool = true) -> Self {
        for p in parameters() { p.requiresGrad = flag }
        return self
    }

    /// Clears the gradients of every parameter (`zero_grad(set_to_none=True)`).
    public func zeroGrad(setToNone: Bool = true) { for p in parameters() { p.zeroGrad(setToNone: setToNone) } }

    // MARK: hooks

    /// A handle that removes a hook when `remove()` is called.
    public struct HookHandle {
        let removeAction: () -> Void
        /// Removes the hook.
        public func remove() { removeAction() }
    }

    /// Registers `hook(module, input, output)`, called after `forward`; a non-nil result replaces the output.
    @discardableResult
    public func registerForwardHook(_ hook: @escaping (Module, Tensor, Tensor) -> Tensor?) -> HookHandle {
        let id = nextHookID; nextHookID += 1
        forwardHooks.append((id, hook))
        return HookHandle { [weak self] in self?.forwardHooks.removeAll { $0.id == id } }
    }

    /// Registers `hook(module, input)`, called before `forward`; a non-nil result replaces the input.
    @discardableResult
    public func registerForwardPreHook(_ hook: @escaping (Module, Tensor) -> Tensor?) -> HookHandle {
        let id = nextHookID; nextHookID += 1
        forwardPreHooks.append((id, hook))
        return HookHandle { [weak self] in self?.forwardPreHooks.removeAll { $0.id == id } }
    }

    // MARK: printing

    /// PyTorch-like `print(model)`: the type, its arguments and its children, indented.
    public var description: String {
        let kids = namedChildren()
        if kids.isEmpty { return "\(typeName)(\(extraDescription))" }
        var lines = ["\(typeName)(" + (extraDescription.isEmpty ? "" : extraDescription)]
        for (n, c) in kids {
            let body = c.description.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
            lines.append("  (\(n)): \(body)")
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }
}

/// Marks `tensor` as a trainable parameter (`nn.Parameter`): a leaf that requires grad and that
/// `Module.parameters()` finds.
@discardableResult
public func Parameter(_ tensor: Tensor, requiresGrad: Bool = true) -> Tensor {
    let p = tensor.gradFn == nil ? tensor : tensor.detached()
    p.isParameter = true
    if requiresGrad { p.requiresGrad = true }
    return p
}

/// Marks `tensor` as a module buffer (saved in the state dict, not trained), as `register_buffer`.
@discardableResult
public func Buffer(_ tensor: Tensor) -> Tensor {
    tensor.isBuffer = true
    return tensor
}
