/// A parsed CSV file: the header names (when asked for) and the numeric rows.
struct CSVTable {
    var columns: [String]
    var values: [Double]
    var rows: Int
    var cols: Int
}

/// Parses a CSV file of numbers: `delimiter`-separated fields, optional double-quoted fields (`""` inside
/// quotes is one quote, delimiters and newlines may be quoted), `\n` or `\r\n` line ends, blank lines skipped.
func parseCSV(_ path: String, header: Bool, delimiter: Character) throws(DatasetError) -> CSVTable {
    guard let delim = delimiter.asciiValue, delimiter != "\"", delimiter != "\n", delimiter != "\r" else {
        throw .malformed(path: path, reason: "delimiter \(delimiter.debugDescription) must be one ASCII character other than a quote or a line end")
    }
    let bytes = try readMaybeGzip(path)
    let quote = UInt8(ascii: "\""), nl = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
    var columns: [String] = []
    var values: [Double] = []
    var rows = 0, cols = -1
    var record: [(text: String, line: Int, column: Int)] = []
    var field: [UInt8] = []
    var line = 1, fieldLine = 1, fieldColumn = 1, column = 1
    var inQuotes = false, wasQuoted = false, headerDone = !header

    func finishRecord() throws(DatasetError) {
        defer { record.removeAll(keepingCapacity: true) }
        if record.count == 1 && record[0].text.isEmpty { return }            // blank line
        if !headerDone { columns = record.map(\.text); cols = columns.count; headerDone = true; return }
        if cols < 0 { cols = record.count }
        guard record.count == cols else {
            throw .malformed(path: path, reason: "line \(record[0].line): expected \(cols) fields, found \(record.count)")
        }
        for f in record {
            let t = f.text.trimmingSpaces()
            guard !t.isEmpty else { throw .badValue(path: path, line: f.line, column: f.column, value: f.text, reason: "empty field") }
            guard let v = Double(t) else { throw .badValue(path: path, line: f.line, column: f.column, value: f.text, reason: "not a number") }
            values.append(v)
        }
        rows += 1
    }
    func finishField(quoted: Bool) {
        record.append((String(decoding: field, as: UTF8.self), fieldLine, fieldColumn))
        field.removeAll(keepingCapacity: true)
    }

    var i = 0
    while i < bytes.count {
        let b = bytes[i]
        if inQuotes {
            if b == quote {
                if i + 1 < bytes.count && bytes[i + 1] == quote { field.append(quote); i += 2; continue }
                inQuotes = false
            } else {
                if b == nl { line += 1 }
                field.append(b)
            }
            i += 1
            continue
        }
        if b == quote {
            guard field.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) && !wasQuoted else {
                throw .badValue(path: path, line: line, column: record.count + 1, value: String(decoding: field, as: UTF8.self) + "\"",
                                reason: "quote inside an unquoted field")
            }
            field.removeAll(); inQuotes = true; wasQuoted = true
        } else if b == delim {
            finishField(quoted: wasQuoted); wasQuoted = false
            column = record.count + 1; fieldLine = line; fieldColumn = column
        } else if b == nl || b == cr {
            finishField(quoted: wasQuoted); wasQuoted = false
            try finishRecord()
            if b == cr && i + 1 < bytes.count && bytes[i + 1] == nl { i += 1 }
            line += 1; column = 1; fieldLine = line; fieldColumn = 1
        } else {
            guard !wasQuoted || b == 0x20 || b == 0x09 else {
                throw .badValue(path: path, line: line, column: record.count + 1, value: String(decoding: field, as: UTF8.self),
                                reason: "text after a closing quote")
            }
            if !wasQuoted { field.append(b) }
        }
        i += 1
    }
    guard !inQuotes else { throw .malformed(path: path, reason: "line \(fieldLine): quoted field is never closed") }
    if !field.isEmpty || !record.isEmpty || wasQuoted {
        finishField(quoted: wasQuoted)
        try finishRecord()
    }
    return CSVTable(columns: columns, values: values, rows: rows, cols: Swift.max(cols, 0))
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}

/// Reads a CSV file of numbers into a 2-D tensor `[rows, columns]` (like `numpy.loadtxt(delimiter=",")`
/// followed by `torch.tensor`).
///
/// Fields may be double-quoted; blank lines are skipped; with `header` the first record is the column names.
/// A field that is not a number throws `DatasetError.badValue` naming the file, line and column.
///
/// ```swift
/// let table = try readCSV("data/iris.csv", header: true)   // [150, 5] float32
/// ```
public func readCSV(_ path: String, header: Bool = false, delimiter: Character = ",", dtype: DType = .float32) throws(DatasetError) -> Tensor {
    let t = try parseCSV(path, header: header, delimiter: delimiter)
    return Tensor(shape: [t.rows, t.cols], data: t.values, dtype: dtype)
}

/// A dataset of CSV rows: the features (every column but `targetColumn`) and the target.
///
/// ```swift
/// let ds = try CSVDataset("data/iris.csv", header: true, targetColumn: -1, targetDType: .int64)
/// let (x, y) = ds[0]   // [4] float32, 0-d int64
/// ```
public struct CSVDataset: BatchDataset, Sendable {
    /// The column names from the header (empty without a header).
    public let columns: [String]
    /// `[N, F]` features.
    public let features: Tensor
    /// `[N]` targets.
    public let targets: Tensor

    /// Reads `path`; `targetColumn` (negative counts from the end) becomes the target, the other columns the features.
    public init(_ path: String, header: Bool = false, delimiter: Character = ",", targetColumn: Int = -1,
                dtype: DType = .float32, targetDType: DType = .float32) throws(DatasetError) {
        let t = try parseCSV(path, header: header, delimiter: delimiter)
        guard t.cols >= 2 else { throw .malformed(path: path, reason: "needs at least 2 columns (features and a target), found \(t.cols)") }
        let tc = targetColumn < 0 ? targetColumn + t.cols : targetColumn
        guard tc >= 0 && tc < t.cols else { throw .malformed(path: path, reason: "target column \(targetColumn) is out of range for \(t.cols) columns") }
        var x: [Double] = [], y: [Double] = []
        x.reserveCapacity(t.rows * (t.cols - 1)); y.reserveCapacity(t.rows)
        for r in 0..<t.rows {
            for c in 0..<t.cols {
                let v = t.values[r * t.cols + c]
                if c == tc { y.append(v) } else { x.append(v) }
            }
        }
        if targetDType != .float32 && targetDType != .float64 {
            if let bad = y.firstIndex(where: { $0 != $0.rounded() }) {
                throw .malformed(path: path, reason: "data row \(bad + 1), column \(tc + 1): target \(y[bad]) is not an integer, but targetDType is \(targetDType)")
            }
        }
        columns = t.columns
        features = Tensor(shape: [t.rows, t.cols - 1], data: x, dtype: dtype)
        targets = Tensor(shape: [t.rows], data: y, dtype: targetDType)
    }

    /// Number of rows.
    public var count: Int { targets.shape[0] }
    /// Features `[F]` and target (0-d) of row `index`.
    public subscript(index: Int) -> (Tensor, Tensor) { (features.select(0, index), targets.select(0, index)) }
    /// Features `[B, F]` and targets `[B]` at `indices`.
    public func batch(_ indices: Tensor) -> (Tensor, Tensor) {
        (features.indexSelect(dim: 0, index: indices), targets.indexSelect(dim: 0, index: indices))
    }
}
