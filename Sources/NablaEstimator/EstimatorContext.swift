/// What a model function builds its model with (TensorFlow's graph, variable scope and `params` in one):
/// the mode, the hyper-parameters, the global step, and named modules and optimizers that the Estimator
/// creates once per call, restores from the model directory's latest checkpoint (or warm-starts) and saves.
///
/// Each `train`, `evaluate` and `predict` call gets a fresh context, as each TensorFlow call builds a fresh
/// graph: `module(_:_:)` runs its closure the first time a name is asked for and then returns the same module,
/// with the checkpoint's weights loaded into it.
///
/// ```swift
/// let dense = context.module("dense") { Linear(4, 3) }
/// let opt = context.optimizer { Adagrad($0, lr: context.params["learning_rate"] ?? 0.1) }
/// ```
public final class EstimatorContext {
    /// The mode the model function is called in.
    public let mode: ModeKeys
    /// The hyper-parameters given to the Estimator (`params`).
    public let params: [String: Double]
    /// The number of training steps taken so far (`tf.train.get_global_step()`).
    public internal(set) var globalStep: Int
    /// The modules created so far, by name, in creation order.
    public private(set) var modules: [(String, Module)] = []
    /// The optimizers created so far, by name, in creation order.
    public private(set) var optimizers: [(String, Optimizer)] = []
    let restoreFrom: (checkpoint: Checkpoint, path: String)?
    let warmStart: (checkpoint: Checkpoint, path: String)?
    let warmStartModules: [String]?
    var restoreError: EstimatorError?

    init(mode: ModeKeys, params: [String: Double], globalStep: Int, restoreFrom: (checkpoint: Checkpoint, path: String)?,
         warmStart: (checkpoint: Checkpoint, path: String)?, warmStartModules: [String]?) {
        self.mode = mode
        self.params = params
        self.globalStep = globalStep
        self.restoreFrom = restoreFrom
        self.warmStart = warmStart
        self.warmStartModules = warmStartModules
    }

    /// Every parameter of every module created so far, in order (what an optimizer usually takes).
    public var parameters: [Tensor] { modules.flatMap { $0.1.parameters() } }

    /// The module called `name`: created by `make` on first use (in training mode only for `.train`), with
    /// the weights of the latest checkpoint (or of the warm-start checkpoint) loaded.
    ///
    /// - Precondition: `name` is non-empty, has no `.` or `,`, and names a module of type `M`.
    public func module<M: Module>(_ name: String, _ make: () -> M) -> M {
        if let existing = modules.first(where: { $0.0 == name })?.1 {
            guard let m = existing as? M else { nablaFail("EstimatorContext.module: '\(name)' is a \(type(of: existing)), not a \(M.self)") }
            return m
        }
        checkName(name)
        let m = make()
        m.train(mode == .train)
        if let r = restoreFrom {
            restore(m, name, from: r.checkpoint, path: r.path, required: true)
        } else if let w = warmStart, warmStartModules?.contains(name) ?? true {
            restore(m, name, from: w.checkpoint, path: w.path, required: false)
        }
        modules.append((name, m))
        return m
    }

    /// The optimizer called `name`, created by `make` from `parameters` on first use and restored from the
    /// latest checkpoint (warm starts never restore optimizers, as TensorFlow's).
    public func optimizer<O: Optimizer>(_ name: String = "optimizer", _ make: ([Tensor]) -> O) -> O {
        if let existing = optimizers.first(where: { $0.0 == name })?.1 {
            guard let o = existing as? O else { nablaFail("EstimatorContext.optimizer: '\(name)' is a \(type(of: existing)), not a \(O.self)") }
            return o
        }
        checkName(name)
        let o = make(parameters)
        if let r = restoreFrom { restore(o, name, from: r.checkpoint, path: r.path, required: true) }
        optimizers.append((name, o))
        return o
    }

    /// Every module and optimizer, as checkpoint parts.
    var parts: [(String, any Stateful)] { modules.map { ($0.0, $0.1 as any Stateful) } + optimizers.map { ($0.0, $0.1 as any Stateful) } }

    private func checkName(_ name: String) {
        check(!name.isEmpty && !name.contains(".") && !name.contains(",") && name != "epoch" && name != "step",
              "EstimatorContext: name '\(name)' must be non-empty, without '.' or ',', and not 'epoch' or 'step'")
        check(!modules.contains { $0.0 == name } && !optimizers.contains { $0.0 == name },
              "EstimatorContext: name '\(name)' is already used by another module or optimizer")
    }

    private func restore(_ part: any Stateful, _ name: String, from ckpt: Checkpoint, path: String, required: Bool) {
        guard restoreError == nil else { return }
        guard let state = ckpt[part: name] else {
            if required { restoreError = .restoreFailed(path: path, reason: "it has no part '\(name)' (it has \(ckpt.partNames))") }
            return
        }
        do {
            try part.loadStateDict(state, strict: true)
        } catch {
            restoreError = .restoreFailed(path: path, reason: "part '\(name)': \(error)")
        }
    }
}
