import Foundation
import NablaNN

/// One entry of a config's `model.layers` list, parsed and checked: the layer kind, its arguments, and the
/// shape rule that turns an input shape (without the batch dimension) into the output shape.
///
/// An entry is a bare name (`relu`, `flatten`), a name with one scalar (`max_pool2d: 2`, `linear: 10`,
/// `dropout: 0.5`), or a name with a mapping of PyTorch's argument names (`conv2d: {out_channels: 32,
/// kernel_size: 3, padding: 1}`). Input sizes (`in_features`, `in_channels`) are inferred, as Keras does.
public struct LayerSpec {
    /// Builds a layer for inputs of the given shape (batch excluded) and returns it with its output shape.
    public typealias Builder = @Sendable (LayerSpec, [Int]) throws -> (Module, [Int])

    private static let builtinKinds = [
        "linear", "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm1d", "batch_norm2d",
        "layer_norm", "dropout", "dropout2d", "flatten", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh",
        "softplus", "identity",
    ]

    /// The layer kinds a config may use, by name (`conv2d`), in the registry that Keras' `LayerRegistry` uses too.
    static let registry = NamedRegistry<Builder>(Dictionary(uniqueKeysWithValues: builtinKinds.map { kind in
        (kind, { spec, input in try spec.buildBuiltin(input: input) } as Builder)
    }))

    /// The layer kinds a config may use, sorted.
    public static var kinds: [String] { registry.names }

    /// Registers (or replaces) layer kind `name` (lowercase, `_` between words) for configs.
    /// ```swift
    /// LayerSpec.register("scale") { spec, input in (Scale(try spec.argument("factor")?.double() ?? 2), input) }
    /// ```
    public static func register(_ name: String, _ builder: @escaping Builder) {
        registry.register(name, builder)
    }

    /// The layer kind (`conv2d`).
    public let kind: String
    /// Where the entry is, for errors.
    public let node: ConfigNode
    /// The entry's arguments (nil for a bare name).
    let args: ConfigNode?

    /// Parses one `layers` entry.
    public init(_ node: ConfigNode) throws {
        self.node = node
        if let word = node.node.scalar?.string {
            let name = word.lowercased().replacingOccurrences(of: "-", with: "_")
            guard Self.registry.contains(name) else {
                throw node.error("unknown layer '\(word)'; expected one of \(Self.kinds.joined(separator: ", "))")
            }
            kind = name; args = nil
            return
        }
        let keys = node.keys
        guard keys.count == 1 else {
            throw node.error("a layer is one name with its arguments (e.g. `conv2d: {out_channels: 32, kernel_size: 3}`), got keys \(keys)")
        }
        let raw = keys[0].lowercased().replacingOccurrences(of: "-", with: "_")
        guard Self.registry.contains(raw) else {
            throw node.error("unknown layer '\(keys[0])'; expected one of \(Self.kinds.joined(separator: ", "))")
        }
        kind = raw
        args = try node.required(keys[0])
    }

    // MARK: arguments

    /// The mapping argument `key`, or the scalar shorthand when `key` is the layer's main argument.
    private func arg(_ key: String, main: Bool = false) throws -> ConfigNode? {
        guard let args else { return nil }
        if args.node.scalar != nil { return main ? args : nil }
        return try args.optional(key)
    }

    private func allow(_ keys: [String]) throws {
        guard let args, args.node.mapping != nil else { return }
        try args.onlyKeys(keys)
    }

    /// The argument `key` of the entry (`kernel_size` of `conv2d: {kernel_size: 3}`), or with `main` the scalar
    /// shorthand (`linear: 10`); nil when absent.
    public func argument(_ key: String, main: Bool = false) throws -> ConfigNode? { try arg(key, main: main) }

    private func requiredArg(_ key: String, main: Bool = false) throws -> ConfigNode {
        guard let a = try arg(key, main: main) else {
            throw node.error("layer \(kind) needs '\(key)' (e.g. `\(kind): {\(key): ...}`)")
        }
        return a
    }

    /// An int-or-list argument (`kernel_size: 3` or `kernel_size: [3, 5]`) expanded to `dims` values.
    private func sizes(_ key: String, main: Bool = false, dims: Int, default d: Int) throws -> [Int] {
        guard let a = try arg(key, main: main) else { return Array(repeating: d, count: dims) }
        let v = a.node.sequence != nil ? try a.elements().map { try $0.int() } : [try a.int()]
        guard v.allSatisfy({ $0 >= 0 }), v.count == 1 || v.count == dims else {
            let what = dims == 1 ? "a non-negative integer" : "a non-negative integer or a list of \(dims) of them"
            throw a.error("expected \(what), got \(a.kind)")
        }
        return v.count == 1 ? Array(repeating: v[0], count: dims) : v
    }

    // MARK: building

    /// Throws a located error when the layer's weights for inputs of `input` would exceed `ReaderLimits.maxElements`
    /// (checked before `build` allocates them).
    public func checkSizes(input: [Int]) throws {
        let limits = ReaderLimits.current
        func weight(_ shape: [Int]) throws {
            if let problem = limits.shapeProblem(shape) { throw node.error("layer \(kind): weight \(problem)") }
        }
        switch kind {
        case "linear":
            if let inF = input.last, let out = try? requiredArg("out_features", main: true).positiveInt() { try weight([inF, out]) }
        case "conv1d", "conv2d":
            let dims = kind == "conv2d" ? 2 : 1
            if let inC = input.first, let outC = try? requiredArg("out_channels").positiveInt(),
               let k = try? sizes("kernel_size", dims: dims, default: 0) {
                try weight([outC, inC] + k)
            }
        default:
            break
        }
    }

    /// Builds the layer for inputs of shape `input` (batch dimension excluded) and returns it with its output shape.
    /// Throws a located error when the shape cannot work (too few dimensions, a kernel larger than the input, ...).
    public func build(input: [Int]) throws -> (Module, [Int]) {
        guard let builder = Self.registry[kind] else { throw node.error("unknown layer '\(kind)'") }
        return try builder(self, input)
    }

    /// The built-in kinds.
    private func buildBuiltin(input: [Int]) throws -> (Module, [Int]) {
        func needRank(_ r: Int, _ what: String) throws {
            guard input.count == r else {
                throw node.error("layer \(kind) expects \(what) input, got shape \(shapeText(input)) (batch excluded)")
            }
        }
        switch kind {
        case "linear":
            try allow(["out_features", "bias"])
            let out = try requiredArg("out_features", main: true).positiveInt()
            let bias = try arg("bias")?.bool() ?? true
            guard let inF = input.last, inF > 0 else { throw node.error("layer linear needs an input with at least one dimension") }
            return (Linear(inF, out, bias: bias), Array(input.dropLast()) + [out])
        case "conv1d", "conv2d":
            try allow(["out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode"])
            let dims = kind == "conv2d" ? 2 : 1
            try needRank(dims + 1, dims == 2 ? "a [C, H, W]" : "a [C, L]")
            let outC = try requiredArg("out_channels").positiveInt()
            let kNode = try requiredArg("kernel_size")
            let k = try sizes("kernel_size", dims: dims, default: 0), s = try sizes("stride", dims: dims, default: 1)
            let d = try sizes("dilation", dims: dims, default: 1)
            let groups = try arg("groups")?.positiveInt() ?? 1
            let bias = try arg("bias")?.bool() ?? true
            guard k.allSatisfy({ $0 > 0 }) else { throw kNode.error("expected a positive kernel size, got \(kNode.kind)") }
            guard s.allSatisfy({ $0 > 0 }) && d.allSatisfy({ $0 > 0 }) else {
                throw node.error("layer \(kind): stride and dilation must be positive")
            }
            guard input[0] % groups == 0 && outC % groups == 0 else {
                throw node.error("layer \(kind): in_channels \(input[0]) and out_channels \(outC) must both be divisible by groups \(groups)")
            }
            // padding: a size (or list), or "same" / "valid" as PyTorch accepts.
            var p = Array(repeating: 0, count: dims)
            var padding = ConvPadding.explicit(SpatialSize(p))
            if let pNode = try arg("padding"), let word = pNode.node.scalar?.string, Int(word) == nil {
                switch try pNode.choice(["same", "valid"]) {
                case "same":
                    guard s.allSatisfy({ $0 == 1 }) else { throw pNode.error("padding 'same' needs stride 1, got stride \(s)") }
                    padding = .same
                default: padding = .valid
                }
            } else {
                p = try sizes("padding", dims: dims, default: 0)
                padding = .explicit(SpatialSize(p))
            }
            let spatial = Array(input.dropFirst())
            let modeNode = try arg("padding_mode")
            let mode = try modeNode.map { PadMode(rawValue: try $0.choice(["zeros", "reflect", "replicate", "circular"])) ?? .zeros } ?? .zeros
            if let modeNode, mode == .reflect || mode == .circular {
                // F.pad's limits, checked here so that a bad config is a located error rather than a failed run.
                let sizes = convPadSizes(padding, kernel: k, stride: s, dilation: d, op: kind)
                for i in spatial.indices {
                    let dim = dims - 1 - i, before = sizes[2 * dim], after = sizes[2 * dim + 1], n = spatial[i]
                    guard mode == .reflect ? max(before, after) < n : max(before, after) <= n else {
                        throw modeNode.error("layer \(kind): \(mode.rawValue) padding \(max(before, after)) must be "
                            + "\(mode == .reflect ? "smaller than" : "at most") the input size \(n) (input shape \(shapeText(input)))")
                    }
                }
            }
            var outSpatial: [Int] = []
            for i in spatial.indices {
                if padding == .same { outSpatial.append(spatial[i]); continue }
                let span = d[i] * (k[i] - 1) + 1
                guard spatial[i] + 2 * p[i] >= span else {
                    throw kNode.error("layer \(kind): kernel \(k[i])\(d[i] > 1 ? " (dilation \(d[i]))" : "") is larger than the "
                        + "\(p[i] > 0 ? "padded " : "")input size \(spatial[i] + 2 * p[i]) (input shape \(shapeText(input)))")
                }
                outSpatial.append((spatial[i] + 2 * p[i] - span) / s[i] + 1)
            }
            let m: Module = dims == 2
                ? Conv2d(input[0], outC, kernelSize: SpatialSize(k), stride: SpatialSize(s), padding: padding,
                         dilation: SpatialSize(d), groups: groups, bias: bias, paddingMode: mode)
                : Conv1d(input[0], outC, kernelSize: k[0], stride: s[0], padding: padding, dilation: d[0], groups: groups,
                         bias: bias, paddingMode: mode)
            return (m, [outC] + outSpatial)
        case "max_pool2d", "avg_pool2d":
            try allow(["kernel_size", "stride", "padding"])
            try needRank(3, "a [C, H, W]")
            let kNode = try requiredArg("kernel_size", main: true)
            let k = try sizes("kernel_size", main: true, dims: 2, default: 0)
            guard k[0] > 0 && k[1] > 0 else { throw kNode.error("expected a positive kernel size, got \(kNode.kind)") }
            let s = try arg("stride") != nil ? try sizes("stride", dims: 2, default: 1) : k
            guard s[0] > 0 && s[1] > 0 else { throw node.error("layer \(kind): stride must be positive") }
            let p = try sizes("padding", dims: 2, default: 0)
            guard p[0] * 2 <= k[0] && p[1] * 2 <= k[1] else { throw node.error("layer \(kind): padding must be at most half the kernel size") }
            var outSpatial: [Int] = []
            for i in 0..<2 {
                let size = input[i + 1] + 2 * p[i]
                guard size >= k[i] else {
                    throw kNode.error("layer \(kind): kernel \(k[i]) is larger than the input size \(size) (input shape \(shapeText(input)))")
                }
                outSpatial.append((size - k[i]) / s[i] + 1)
            }
            let m: Module = kind == "max_pool2d"
                ? MaxPool2d(kernelSize: SpatialSize(k), stride: SpatialSize(s), padding: SpatialSize(p))
                : AvgPool2d(kernelSize: SpatialSize(k), stride: SpatialSize(s), padding: SpatialSize(p))
            return (m, [input[0]] + outSpatial)
        case "adaptive_avg_pool2d":
            try allow(["output_size"])
            try needRank(3, "a [C, H, W]")
            let o = try sizes("output_size", main: true, dims: 2, default: 1)
            guard o[0] > 0 && o[1] > 0 else { throw node.error("layer adaptive_avg_pool2d: output_size must be positive, got \(o)") }
            return (AdaptiveAvgPool2d(SpatialSize(o)), [input[0], o[0], o[1]])
        case "batch_norm1d", "batch_norm2d":
            try allow(["eps", "momentum", "affine"])
            try needRank(kind == "batch_norm2d" ? 3 : 1, kind == "batch_norm2d" ? "a [C, H, W]" : "a [C]")
            let eps = try arg("eps")?.double() ?? 1e-5, mom: Double? = try arg("momentum")?.double() ?? 0.1
            let affine = try arg("affine")?.bool() ?? true
            let m: Module = kind == "batch_norm2d"
                ? BatchNorm2d(input[0], eps: eps, momentum: mom, affine: affine)
                : BatchNorm1d(input[0], eps: eps, momentum: mom, affine: affine)
            return (m, input)
        case "layer_norm":
            try allow(["eps"])
            guard let last = input.last else { throw node.error("layer layer_norm needs an input with at least one dimension") }
            return (LayerNorm([last], eps: try arg("eps")?.double() ?? 1e-5), input)
        case "dropout", "dropout2d":
            try allow(["p"])
            let p = try arg("p", main: true)?.double() ?? 0.5
            guard (0...1).contains(p) else { throw node.error("layer \(kind): p must be in [0, 1], got \(p)") }
            return (kind == "dropout" ? Dropout(p: p) : Dropout2d(p: p), input)
        case "flatten":
            try allow([])
            return (Flatten(), [input.reduce(1, *)])
        default:
            return (try activation(), input)
        }
    }

    private func shapeText(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    private func activation() throws -> Module {
        switch kind {
        case "relu": try allow([]); return ReLU()
        case "leaky_relu": try allow(["negative_slope"]); return LeakyReLU(negativeSlope: try arg("negative_slope", main: true)?.double() ?? 0.01)
        case "elu": try allow(["alpha"]); return ELU(alpha: try arg("alpha", main: true)?.double() ?? 1)
        case "gelu": try allow(["approximate"]); return GELU(approximate: try arg("approximate", main: true)?.choice(["none", "tanh"]) ?? "none")
        case "silu": try allow([]); return SiLU()
        case "sigmoid": try allow([]); return Sigmoid()
        case "tanh": try allow([]); return Tanh()
        case "softplus": try allow(["beta", "threshold"]); return Softplus(beta: try arg("beta")?.double() ?? 1, threshold: try arg("threshold")?.double() ?? 20)
        default: try allow([]); return Identity()
        }
    }
}
