import Foundation

/// A whole training config (Caffe's net + solver prototxt in one YAML file): the data, the model, the solver,
/// and where outputs go. Parsing checks every field and reports problems with file, line and field.
///
/// ```yaml
/// name: fashion_cnn
/// seed: 0
/// data: {dataset: fashion-mnist, validation_split: 0.1, normalize: {mean: [0.286], std: [0.353]}}
/// model:
///   input: [1, 28, 28]
///   layers:
///     - conv2d: {out_channels: 32, kernel_size: 3, padding: 1}
///     - relu
///     - max_pool2d: 2
///     - flatten
///     - linear: 10
/// solver: {optimizer: adam, lr: 0.001, epochs: 3, batch_size: 128, lr_policy: {type: step, step_size: 2, gamma: 0.5}}
/// output: runs/fashion_cnn
/// compile: true        # optional: each training step runs as a compiled graph (`compile`)
/// ```
public struct TrainConfig {
    /// The config file's path.
    public let path: String
    /// A name for logs (default: the file name without extension).
    public let name: String
    /// Seed for weights, shuffling and dropout.
    public let seed: UInt64
    /// The data section.
    public let data: DataConfig
    /// The model section.
    public let model: ModelConfig
    /// The solver section.
    public let solver: SolverConfig
    /// Output directory for checkpoints and logs (relative paths are relative to the working directory).
    public let output: String
    /// Whether training steps run as a compiled graph (`compile: true`; `nabla train --compile` overrides).
    public let compile: Bool

    /// Reads and checks the config at `path`.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: 0, column: 0, field: "", message: "cannot read the config file (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: 0, column: 0, field: "", message: "the config file is not UTF-8 text")
        }
        try self.init(text: text, path: path)
    }

    /// Parses config text; `path` is used in errors and for the default name.
    public init(text: String, path: String) throws {
        let root = try ConfigNode.parse(text, file: path)
        try root.onlyKeys(["name", "seed", "data", "model", "solver", "output", "compile"])
        self.path = path
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        name = try root.optional("name")?.string() ?? stem
        if let s = try root.optional("seed") {
            let v = try s.int()
            guard v >= 0 else { throw s.error("expected a non-negative integer, got \(v)") }
            seed = UInt64(v)
        } else { seed = 0 }
        data = try DataConfig(try root.required("data"))
        model = try ModelConfig(try root.required("model"))
        solver = try SolverConfig(try root.required("solver"))
        output = try root.optional("output")?.string() ?? "runs/\(name)"
        compile = try root.optional("compile")?.bool() ?? false
    }
}

/// The `data` section: which dataset, where, normalisation and validation split.
public struct DataConfig {
    /// `fashion_mnist`, `mnist` or `cifar10`.
    public let dataset: String
    /// Folder with the dataset files (nil: the dataset's default).
    public let root: String?
    /// Fraction of the training set held out for validation (0 = none).
    public let validationSplit: Double
    /// Per-channel mean subtracted from the inputs (empty = none).
    public let mean: [Double]
    /// Per-channel standard deviation the inputs are divided by.
    public let std: [Double]
    /// Use only the first `limit` samples of the training and of the test split (quick runs).
    public let limit: Int?
    /// Background loader threads.
    public let numWorkers: Int
    /// Where the section is, for errors.
    public let node: ConfigNode

    init(_ n: ConfigNode) throws {
        try n.onlyKeys(["dataset", "root", "validation_split", "normalize", "limit", "num_workers"])
        let datasetNode = try n.required("dataset")
        dataset = try datasetNode.choice(["fashion_mnist", "mnist", "cifar10"])
        root = try n.optional("root")?.string()
        if dataset != "fashion_mnist" && root == nil {
            throw datasetNode.error("dataset \(dataset) needs 'root' (the folder with its files) in the data section")
        }
        self.node = n
        if let v = try n.optional("validation_split") {
            let f = try v.double()
            guard f >= 0 && f < 1 else { throw v.error("expected a fraction in [0, 1), got \(f)") }
            validationSplit = f
        } else { validationSplit = 0 }
        if let norm = try n.optional("normalize") {
            try norm.onlyKeys(["mean", "std"])
            let m = try norm.required("mean").doubles(), sNode = try norm.required("std"), s = try sNode.doubles()
            guard m.count == s.count else { throw norm.error("mean has \(m.count) values but std has \(s.count)") }
            guard s.allSatisfy({ $0 > 0 }) else { throw sNode.error("std values must be positive, got \(s)") }
            mean = m; std = s
        } else { mean = []; std = [] }
        limit = try n.optional("limit")?.positiveInt()
        if let w = try n.optional("num_workers") {
            numWorkers = try w.int()
            guard numWorkers >= 0 else { throw w.error("expected a non-negative integer, got \(numWorkers)") }
        } else { numWorkers = 0 }
    }
}

/// The `model` section: the input shape and the layer list.
public struct ModelConfig {
    /// Shape of one input sample (batch excluded), e.g. `[1, 28, 28]`.
    public let input: [Int]
    /// The layers, in order.
    public let layers: [LayerSpec]
    /// Where the section is, for errors.
    public let node: ConfigNode
    /// Where `input` is, for errors.
    public let inputNode: ConfigNode

    init(_ n: ConfigNode) throws {
        try n.onlyKeys(["input", "layers"])
        node = n
        inputNode = try n.required("input")
        input = try inputNode.positiveInts()
        if let problem = ReaderLimits.current.shapeProblem(input) { throw inputNode.error("input \(problem)") }
        let list = try n.required("layers")
        layers = try list.elements().map(LayerSpec.init)
        guard !layers.isEmpty else { throw list.error("the model needs at least one layer") }
    }
}

/// The `solver` section: optimizer, learning-rate policy, epochs, batch size and loss (Caffe's solver.prototxt).
public struct SolverConfig {
    /// `sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`.
    public let optimizer: String
    /// Base learning rate.
    public let lr: Double
    /// SGD/RMSprop momentum.
    public let momentum: Double
    /// Weight decay (nil: the optimizer's PyTorch default, 0 except AdamW's 0.01).
    public let weightDecay: Double?
    /// Passes over the training set.
    public let epochs: Int
    /// Samples per step.
    public let batchSize: Int
    /// `cross_entropy` (class indices) or `mse`.
    public let loss: String
    /// The learning-rate policy.
    public let lrPolicy: LRPolicy

    /// Learning-rate policies, stepped once per epoch (Caffe's `lr_policy`).
    public enum LRPolicy: Equatable {
        /// Constant learning rate.
        case fixed
        /// Multiply by `gamma` every `stepSize` epochs.
        case step(stepSize: Int, gamma: Double)
        /// Multiply by `gamma` at each milestone epoch.
        case multistep(milestones: [Int], gamma: Double)
        /// Multiply by `gamma` every epoch.
        case exponential(gamma: Double)
        /// Cosine from the base rate to `etaMin` over the run.
        case cosine(etaMin: Double)
    }

    init(_ n: ConfigNode) throws {
        try n.onlyKeys(["optimizer", "lr", "momentum", "weight_decay", "epochs", "batch_size", "loss", "lr_policy"])
        optimizer = try n.optional("optimizer")?.choice(OptimizerFactory.names) ?? "adam"
        if let l = try n.optional("lr") {
            let v = try l.double()
            guard v > 0 else { throw l.error("the learning rate must be positive, got \(v)") }
            lr = v
        } else { lr = optimizer == "sgd" ? 0.01 : 0.001 }
        momentum = try n.optional("momentum")?.double() ?? 0
        weightDecay = try n.optional("weight_decay")?.double()
        for (key, v) in [("momentum", momentum), ("weight_decay", weightDecay ?? 0)] where v < 0 {
            throw try n.required(key).error("expected a non-negative number, got \(v)")
        }
        epochs = try n.required("epochs").positiveInt()
        batchSize = try n.optional("batch_size")?.positiveInt() ?? 64
        loss = try n.optional("loss")?.choice(["cross_entropy", "mse"]) ?? "cross_entropy"
        guard let p = try n.optional("lr_policy") else { lrPolicy = .fixed; return }
        if p.node.scalar != nil, try p.choice(["fixed"]) == "fixed" { lrPolicy = .fixed; return }
        try p.onlyKeys(["type", "step_size", "gamma", "milestones", "eta_min"])
        let type = try p.required("type").choice(["fixed", "step", "multistep", "exponential", "cosine"])
        let gamma = try p.optional("gamma")?.double() ?? 0.1
        switch type {
        case "step": lrPolicy = .step(stepSize: try p.required("step_size").positiveInt(), gamma: gamma)
        case "multistep": lrPolicy = .multistep(milestones: try p.required("milestones").positiveInts(), gamma: gamma)
        case "exponential": lrPolicy = .exponential(gamma: gamma)
        case "cosine": lrPolicy = .cosine(etaMin: try p.optional("eta_min")?.double() ?? 0)
        default: lrPolicy = .fixed
        }
    }
}
