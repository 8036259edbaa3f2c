/// The value of one hyperparameter in `SummaryWriter.addHparams` (a number, a string or a flag).
///
/// Literals convert: `["lr": 0.01, "layers": 3, "optimizer": "adam", "nesterov": true]`.
public enum HParamValue: Sendable, Hashable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    /// A number (integers are shown as numbers too, as in PyTorch).
    case number(Double)
    /// A string.
    case string(String)
    /// A flag.
    case bool(Bool)

    /// A number from a floating-point literal.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A number from an integer literal.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A string from a string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A flag from a boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// The dimension order of an image tensor given to `SummaryWriter.addImage` (`dataformats=`).
public enum ImageDataFormat: Sendable, Hashable {
    /// Channels, height, width (`"CHW"`, the default, as PyTorch images are laid out).
    case chw
    /// Height, width, channels (`"HWC"`).
    case hwc
    /// Height, width: one gray channel (`"HW"`).
    case hw
}
