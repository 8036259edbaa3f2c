/// Choosing a `CSVDataset`'s target by its header name (`df.drop(columns="species")`, `df["species"]` in pandas).
extension CSVDataset {
    /// Reads `path`, whose first record names the columns, with the column named `targetColumn` as the target and
    /// the others as features.
    ///
    /// ```swift
    /// let iris = try CSVDataset("data/iris.csv", targetColumn: "species", targetDType: .int64)
    /// ```
    /// - Throws: `DatasetError.malformed` naming the columns when none is called `targetColumn` (or several are),
    ///   and the errors of `init(_:header:delimiter:targetColumn:dtype:targetDType:)`.
    public init(_ path: String, delimiter: Character = ",", targetColumn name: String, dtype: DType = .float32,
                targetDType: DType = .float32) throws(DatasetError) {
        let columns = try parseCSV(path, header: true, delimiter: delimiter).columns
        let matches = columns.indices.filter { columns[$0] == name }
        guard matches.count == 1, let index = matches.first else {
            throw .malformed(path: path, reason: matches.isEmpty
                ? "no column named \"\(name)\"; the header has \(columns.map { "\"\($0)\"" }.joined(separator: ", "))"
                : "\(matches.count) columns are named \"\(name)\" (columns \(matches.map { $0 + 1 })); pass the index instead")
        }
        try self.init(path, header: true, delimiter: delimiter, targetColumn: index, dtype: dtype, targetDType: targetDType)
    }
}
