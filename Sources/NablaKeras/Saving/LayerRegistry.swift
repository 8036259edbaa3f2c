import Foundation
import NablaNN

/// Why a model could not be saved or loaded (`Model.save`, `loadModel`): the message names the file,
/// the layer and what was wrong.
public struct ModelSerializationError: Error, CustomStringConvertible, Equatable {
    /// What went wrong.
    public let message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// A saved layer configuration (the `config` object of one layer in a saved model), read by the
/// factories of `LayerRegistry`; the accessors throw naming the layer and the key.
public struct LayerConfig: Sendable {
    /// The layer's Keras class name (`Dense`).
    public let className: String
    /// The layer's name (`dense_1`); pass it to the layer's `init(name:)` so saved weights match.
    public let name: String
    /// The values, as written by `Layer.getConfig()`.
    public let values: [String: GraphAttribute]

    /// Creates a configuration.
    public init(className: String, name: String, values: [String: GraphAttribute]) {
        self.className = className; self.name = name; self.values = values
    }

    private func fail(_ key: String, _ what: String) -> ModelSerializationError {
        ModelSerializationError("layer \(name) (\(className)): config key \"\(key)\" \(what)")
    }
    private func get(_ key: String) throws(ModelSerializationError) -> GraphAttribute {
        guard let v = values[key] else { throw fail(key, "is missing") }
        return v
    }
    /// Whether `key` is present.
    public func has(_ key: String) -> Bool { values[key] != nil }
    /// An integer value.
    public func int(_ key: String) throws(ModelSerializationError) -> Int {
        if case .int(let v) = try get(key) { return v }
        throw fail(key, "must be an integer, got \(values[key]!)")
    }
    /// A number (integers are accepted).
    public func double(_ key: String) throws(ModelSerializationError) -> Double {
        switch try get(key) {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: throw fail(key, "must be a number, got \(values[key]!)")
        }
    }
    /// A flag.
    public func bool(_ key: String) throws(ModelSerializationError) -> Bool {
        if case .bool(let v) = try get(key) { return v }
        throw fail(key, "must be true or false, got \(values[key]!)")
    }
    /// A string.
    public func string(_ key: String) throws(ModelSerializationError) -> String {
        if case .string(let v) = try get(key) { return v }
        throw fail(key, "must be a string, got \(values[key]!)")
    }
    /// A list of integers (an empty list may be stored as any empty array).
    public func ints(_ key: String) throws(ModelSerializationError) -> [Int] {
        if case .ints(let v) = try get(key) { return v }
        throw fail(key, "must be a list of integers, got \(values[key]!)")
    }
    /// A positive integer (`units`, `filters`), at most `ReaderLimits.maxElements`.
    public func positiveInt(_ key: String) throws(ModelSerializationError) -> Int {
        let v = try int(key)
        guard v > 0 else { throw fail(key, "must be a positive integer, got \(v)") }
        let limit = ReaderLimits.current.maxElements
        guard v <= limit else { throw fail(key, "is \(v), over the limit of \(limit) (ReaderLimits.maxElements)") }
        return v
    }
    /// A finite number in `range`.
    public func double(_ key: String, in range: Range<Double>) throws(ModelSerializationError) -> Double {
        let v = try double(key)
        guard v.isFinite, range.contains(v) else { throw fail(key, "must be in [\(range.lowerBound), \(range.upperBound)), got \(v)") }
        return v
    }
    /// A finite number.
    public func finiteDouble(_ key: String) throws(ModelSerializationError) -> Double {
        let v = try double(key)
        guard v.isFinite else { throw fail(key, "must be a finite number, got \(v)") }
        return v
    }
    /// One or `count` positive sizes (`kernel_size`, `strides`), each at most 2^20.
    public func spatialSizes(_ key: String, count: Int = 2, minimum: Int = 1) throws(ModelSerializationError) -> SpatialSize {
        let v = try ints(key)
        guard v.count == 1 || v.count == count else { throw fail(key, "must hold 1 or \(count) sizes, got \(v.count) (\(v))") }
        guard v.allSatisfy({ $0 >= minimum && $0 <= 1 << 20 }) else {
            throw fail(key, "must hold sizes in \(minimum)...\(1 << 20), got \(v)")
        }
        return SpatialSize(v)
    }
    /// An activation name (`"relu"`).
    public func activation(_ key: String = "activation") throws(ModelSerializationError) -> ActivationFunction {
        let s = try string(key)
        guard let a = ActivationFunction(rawValue: s) else { throw fail(key, "names an unknown activation \"\(s)\"") }
        return a
    }
    /// A data format (`"channels_last"`), `channelsLast` when absent.
    public func dataFormat(_ key: String = "data_format") throws(ModelSerializationError) -> DataFormat {
        guard has(key) else { return .channelsLast }
        let s = try string(key)
        guard let f = DataFormat(rawValue: s) else { throw fail(key, "must be channels_last or channels_first, got \"\(s)\"") }
        return f
    }
    /// A convolution padding: `"valid"`, `"same"` or a list of sizes.
    public func padding(_ key: String = "padding") throws(ModelSerializationError) -> ConvPadding {
        guard has(key) else { return .valid }
        switch try get(key) {
        case .string("valid"): return .valid
        case .string("same"): return .same
        case .ints: return .explicit(try spatialSizes(key, minimum: 0))
        default: throw fail(key, "must be \"valid\", \"same\" or a list of sizes, got \(values[key]!)")
        }
    }
}

extension ConvPadding {
    /// The padding as a saved attribute: `"valid"`, `"same"` or the sizes.
    var attribute: GraphAttribute {
        switch self {
        case .valid: return .string("valid")
        case .same: return .string("same")
        case .explicit(let s): return .ints(s.values)
        }
    }
}

/// The layer types `loadModel` can rebuild, by Keras class name (Keras' `custom_objects`).
///
/// The built-in layers are registered already; register a custom layer once before loading a model
/// that uses it. Its `getConfig()` must save what the factory reads.
/// ```swift
/// final class Scale: Layer {
///     let factor: Double
///     init(_ factor: Double, name: String? = nil) { self.factor = factor; super.init(name: name) }
///     override func getConfig() -> [(String, GraphAttribute)] { [("factor", .double(factor))] }
///     override func call(_ x: Tensor, training: Bool) -> Tensor { x * factor }
/// }
/// LayerRegistry.register("Scale") { c in Scale(try c.double("factor"), name: c.name) }
/// let model = try loadModel("model.safetensors")
/// ```
public enum LayerRegistry {
    /// Builds a layer from its saved configuration.
    public typealias Factory = @Sendable (LayerConfig) throws -> Layer

    private static let factories = NamedRegistry<Factory>(builtins)

    /// Registers (or replaces) the factory for layers whose `className` is `className`.
    public static func register(_ className: String, _ factory: @escaping Factory) {
        factories.register(className, factory)
    }

    /// The registered class names, sorted.
    public static var registered: [String] { factories.names }

    /// Builds the layer described by `config`; throws for an unregistered class.
    public static func make(_ config: LayerConfig) throws -> Layer {
        guard let f = factories[config.className] else {
            throw ModelSerializationError("layer \(config.name): unknown layer type \"\(config.className)\"; register it with "
                + "LayerRegistry.register(\"\(config.className)\") { config in ... } before loading (known: \(registered.joined(separator: ", ")))")
        }
        return try f(config)
    }

    // The factories check every value a saved file may hold before calling the constructors, whose checks
    // stop the process (they guard programmer errors); what depends on the input shape is checked by the
    // layers' `checkBuild` and `computeOutputSpecs`, which throw.
    private static let builtins: [String: Factory] = [
        "Dense": { c in Dense(try c.positiveInt("units"), activation: try c.activation(), useBias: c.has("use_bias") ? try c.bool("use_bias") : true, name: c.name) },
        "Conv2D": { c in
            Conv2D(try c.positiveInt("filters"), kernelSize: try c.spatialSizes("kernel_size"), strides: try c.spatialSizes("strides"),
                   padding: try c.padding(), dilationRate: c.has("dilation_rate") ? try c.spatialSizes("dilation_rate") : 1,
                   activation: try c.activation(), useBias: c.has("use_bias") ? try c.bool("use_bias") : true,
                   dataFormat: try c.dataFormat(), name: c.name)
        },
        "MaxPooling2D": { c in
            MaxPooling2D(poolSize: try c.spatialSizes("pool_size"), strides: try c.spatialSizes("strides"),
                         dataFormat: try c.dataFormat(), name: c.name)
        },
        "AveragePooling2D": { c in
            AveragePooling2D(poolSize: try c.spatialSizes("pool_size"), strides: try c.spatialSizes("strides"),
                             dataFormat: try c.dataFormat(), name: c.name)
        },
        "GlobalAveragePooling2D": { c in GlobalAveragePooling2D(dataFormat: try c.dataFormat(), name: c.name) },
        "Flatten": { c in Flatten(name: c.name) },
        "Reshape": { c in
            let target = try c.ints("target_shape")
            guard target.filter({ $0 == -1 }).count <= 1, target.allSatisfy({ $0 > 0 || $0 == -1 }),
                  ReaderLimits.current.shapeProblem(target.map { max($0, 1) }) == nil else {
                throw ModelSerializationError("layer \(c.name) (Reshape): config key \"target_shape\" must hold positive sizes and at most one -1, "
                    + "within ReaderLimits.maxElements, got \(target)")
            }
            return Reshape(target, name: c.name)
        },
        "Dropout": { c in Dropout(try c.double("rate", in: 0..<1), name: c.name) },
        "Activation": { c in Activation(try c.activation(), name: c.name) },
        "BatchNormalization": { c in
            BatchNormalization(axis: try c.int("axis"), momentum: try c.finiteDouble("momentum"), epsilon: try c.double("epsilon", in: 0..<Double.infinity),
                               center: c.has("center") ? try c.bool("center") : true, scale: c.has("scale") ? try c.bool("scale") : true,
                               name: c.name)
        },
        "Embedding": { c in
            Embedding(try c.positiveInt("input_dim"), try c.positiveInt("output_dim"),
                      inputLength: c.has("input_length") ? try c.positiveInt("input_length") : nil, name: c.name)
        },
        "SimpleRNN": { c in SimpleRNN(try c.positiveInt("units"), returnSequences: try c.bool("return_sequences"), name: c.name) },
        "LSTM": { c in LSTM(try c.positiveInt("units"), returnSequences: try c.bool("return_sequences"), name: c.name) },
        "GRU": { c in GRU(try c.positiveInt("units"), returnSequences: try c.bool("return_sequences"), name: c.name) },
        "Concatenate": { c in Concatenate(axis: try c.int("axis"), name: c.name) },
        "Add": { c in Add(name: c.name) },
        "Multiply": { c in Multiply(name: c.name) },
    ]
}
