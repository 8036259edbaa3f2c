/// A problem in a config file, located by file, line, column and field path.
///
/// Printed as `fashion_cnn.yaml:12:7: model.layers[3].conv2d.kernel_size: expected a positive integer, got "three"`,
/// the form compilers use, so editors can jump to the spot.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The config file.
    public let file: String
    /// 1-based line, or 0 when the problem concerns the whole file.
    public let line: Int
    /// 1-based column, or 0.
    public let column: Int
    /// Dotted path of the field (`solver.lr`), empty for the whole document.
    public let field: String
    /// What was wrong and what was expected.
    public let message: String

    /// Creates an error.
    public init(file: String, line: Int, column: Int, field: String, message: String) {
        self.file = file; self.line = line; self.column = column; self.field = field; self.message = message
    }

    /// `file:line:column: field: message`.
    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}
