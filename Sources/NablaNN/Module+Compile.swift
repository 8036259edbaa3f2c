/// The compiled forward pass of a module (`module.compile()`, MXNet's `hybridize()`).
final class ModuleCompilation {
    let function: CompiledFunction
    /// Whether the traced body is running (the module's own call inside it must not re-enter the graph).
    private(set) var isRunningBody = false

    init(_ module: Module, name: String, dynamic: Bool?) {
        // Retrace when any submodule switches between train() and eval() (Dropout, BatchNorm). The submodules are
        // listed once (reflection is slow); call compile() again after replacing one.
        var body: ((Tensor) -> Tensor)!
        let submodules = module.modules()
        function = CompiledFunction(name: name, watch: { submodules.map(\.training) }, dynamic: dynamic) { xs in
            [body(xs[0])]
        }
        body = { [unowned module, unowned self] x in
            self.isRunningBody = true
            defer { self.isRunningBody = false }
            return module.callUncompiled(x)
        }
    }

    func call(_ xs: [Tensor]) -> [Tensor] { function.call(xs) }
}

extension Module {
    /// Compiles the forward pass in place (PyTorch's `module.compile()`, MXNet's `hybridize()`): later calls trace
    /// once per input signature and `train()`/`eval()` mode, then run the optimised graph (see `CompiledFunction`).
    ///
    /// A compiled forward gives outputs without autograd history, so use it for inference (under `noGrad` or in
    /// `eval()`); a call whose output needs gradients falls back to eager and says so once. To compile training,
    /// compile the whole step (`compile { x, y in ... loss.backward(); opt.step(); return loss }`). Call it again
    /// after replacing a submodule.
    /// - Parameters:
    ///   - name: shown in messages (default: the module's type name).
    ///   - dynamic: as `CompiledFunction`'s (torch.compile's `dynamic=`): nil or true let another batch size
    ///     specialise the graph traced for the first instead of tracing again; false traces every shape.
    /// - Returns: The compiled function, for `explain()` and `graph`.
    @discardableResult
    public func compile(name: String? = nil, dynamic: Bool? = nil) -> CompiledFunction {
        let c = ModuleCompilation(self, name: name ?? typeName, dynamic: dynamic)
        compiledForward = c
        return c.function
    }

    /// MXNet's name for `compile()`.
    @discardableResult
    public func hybridize() -> CompiledFunction { compile() }

    /// Undoes `compile()`: calls run eagerly again.
    public func uncompile() { compiledForward = nil }

    /// The compiled function of the forward pass, when `compile()` was called.
    public var compiledFunction: CompiledFunction? { compiledForward?.function }

    /// Traces one forward pass on `input` (without gradients) into a graph, for `print`, `dot()` and TensorBoard's
    /// graph view (`writer.addGraph(model.traceGraph(input: x))`).
    public func traceGraph(input: Tensor) -> CompiledGraph {
        let f = CompiledFunction(name: typeName, warmup: 0) { [unowned self] xs in [self.callUncompiled(xs[0])] }
        _ = noGrad { f.call([input]) }
        guard let g = f.graph else { nablaFail("\(typeName).traceGraph: the forward pass could not be traced: \(f.explain())") }
        return g
    }
}
