/// The element type of a tensor, as `torch.dtype`.
public enum DType: Int, Sendable, CaseIterable, CustomStringConvertible, Codable {
    /// `torch.bool`, one byte per element.
    case bool = 0
    /// `torch.int32`.
    case int32 = 1
    /// `torch.int64` (`torch.long`), the dtype of integer literals.
    case int64 = 2
    /// `torch.float32`, the default floating dtype.
    case float32 = 3
    /// `torch.float64` (`torch.double`).
    case float64 = 4

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .bool: return 1
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    /// Whether the dtype is a floating-point type (can require grad).
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// Whether the dtype is an integer type (bool excluded).
    public var isInteger: Bool { self == .int32 || self == .int64 }

    /// PyTorch's spelling (`torch.float32`).
    public var description: String {
        switch self {
        case .bool: return "torch.bool"
        case .int32: return "torch.int32"
        case .int64: return "torch.int64"
        case .float32: return "torch.float32"
        case .float64: return "torch.float64"
        }
    }

    /// The short name used in safetensors headers and summaries (`F32`, `I64`, ...).
    public var safetensorsName: String {
        switch self {
        case .bool: return "BOOL"
        case .int32: return "I32"
        case .int64: return "I64"
        case .float32: return "F32"
        case .float64: return "F64"
        }
    }

    /// The result dtype of a binary op on `self` and `other` (`torch.promote_types`).
    public func promoted(with other: DType) -> DType {
        rawValue >= other.rawValue ? self : other
    }

    /// The dtype an op that must produce floats (true division, `exp`, `mean`) gives for `self`.
    public var floatingResult: DType { isFloatingPoint ? self : .float32 }
}

/// Swift scalar types that can be stored in a `Tensor`.
public protocol TensorScalar: Sendable {
    /// The dtype matching this Swift type.
    static var dtype: DType { get }
    /// Converts from `Double` (truncating toward zero for integers, `!= 0` for Bool).
    init(fromDouble value: Double)
    /// Converts to `Double`.
    var doubleValue: Double { get }
}

extension Float: TensorScalar {
    /// `.float32`.
    public static var dtype: DType { .float32 }
    /// Converts from `Double`.
    public init(fromDouble value: Double) { self = Float(value) }
    /// Converts to `Double`.
    public var doubleValue: Double { Double(self) }
}

extension Double: TensorScalar {
    /// `.float64`.
    public static var dtype: DType { .float64 }
    /// Converts from `Double`.
    public init(fromDouble value: Double) { self = value }
    /// Converts to `Double`.
    public var doubleValue: Double { self }
}

extension Int32: TensorScalar {
    /// `.int32`.
    public static var dtype: DType { .int32 }
    /// Converts from `Double` (truncating; saturating at the type's bounds, NaN gives 0).
    public init(fromDouble value: Double) {
        self = value.isNaN ? 0 : Int32(Swift.max(Swift.min(value, Double(Int32.max)), Double(Int32.min)))
    }
    /// Converts to `Double`.
    public var doubleValue: Double { Double(self) }
}

extension Int64: TensorScalar {
    /// `.int64`.
    public static var dtype: DType { .int64 }
    /// Converts from `Double` (truncating; saturating at the type's bounds, NaN gives 0).
    public init(fromDouble value: Double) {
        if value.isNaN { self = 0 } else if value >= 9.2233720368547758e18 { self = .max }
        else if value <= -9.2233720368547758e18 { self = .min } else { self = Int64(value) }
    }
    /// Converts to `Double`.
    public var doubleValue: Double { Double(self) }
}

extension Int: TensorScalar {
    /// `.int64` (Swift's `Int` is 64-bit on every supported platform).
    public static var dtype: DType { .int64 }
    /// Converts from `Double` (truncating, saturating).
    public init(fromDouble value: Double) { self = Int(Int64(fromDouble: value)) }
    /// Converts to `Double`.
    public var doubleValue: Double { Double(self) }
}

extension Bool: TensorScalar {
    /// `.bool`.
    public static var dtype: DType { .bool }
    /// `value != 0`.
    public init(fromDouble value: Double) { self = value != 0 }
    /// `1` or `0`.
    public var doubleValue: Double { self ? 1 : 0 }
}
