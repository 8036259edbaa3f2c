/// The TFRecord framing of TensorBoard event files (`tf.io.TFRecordWriter`).
///
/// Each record is `length: UInt64 LE`, `maskedCRC32C(length bytes): UInt32 LE`, `data`,
/// `maskedCRC32C(data): UInt32 LE`.
///
/// ```swift
/// let framed = TFRecord.encode([1, 2, 3])
/// let records = try TFRecord.decode(framed)   // [[1, 2, 3]]
/// ```
public enum TFRecord {
    /// Frames one record: length, its masked CRC-32C, the data and its masked CRC-32C.
    public static func encode(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = littleEndianBytes(UInt64(data.count))
        out += length
        out += littleEndianBytes(CRC.maskedCRC32C(length))
        out += data
        out += littleEndianBytes(CRC.maskedCRC32C(data))
        return out
    }

    /// Splits `bytes` into the records it frames, checking both checksums of each.
    ///
    /// - Throws: `TFRecordError` when the bytes end inside a record or a checksum does not match.
    public static func decode(_ bytes: [UInt8]) throws(TFRecordError) -> [[UInt8]] {
        var records: [[UInt8]] = []
        var at = 0
        while at < bytes.count {
            guard bytes.count - at >= 12 else { throw .truncated(offset: at) }
            let lengthBytes = Array(bytes[at..<at + 8])
            let length = readLE(lengthBytes, UInt64.self)
            guard readLE(Array(bytes[at + 8..<at + 12]), UInt32.self) == CRC.maskedCRC32C(lengthBytes) else {
                throw .lengthChecksumMismatch(offset: at)
            }
            let start = at + 12
            guard length <= UInt64(bytes.count - start), bytes.count - start - Int(length) >= 4 else {
                throw .truncated(offset: at)
            }
            let end = start + Int(length)
            let data = Array(bytes[start..<end])
            guard readLE(Array(bytes[end..<end + 4]), UInt32.self) == CRC.maskedCRC32C(data) else {
                throw .dataChecksumMismatch(offset: at)
            }
            records.append(data)
            at = end + 4
        }
        return records
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    private static func readLE<T: FixedWidthInteger>(_ bytes: [UInt8], _: T.Type) -> T {
        bytes.enumerated().reduce(T.zero) { $0 | (T($1.element) << ($1.offset * 8)) }
    }
}

/// Why `TFRecord.decode` rejected a byte stream.
public enum TFRecordError: Error, Equatable, CustomStringConvertible {
    /// The bytes end inside the record that starts at `offset`.
    case truncated(offset: Int)
    /// The checksum of the length of the record at `offset` does not match.
    case lengthChecksumMismatch(offset: Int)
    /// The checksum of the data of the record at `offset` does not match.
    case dataChecksumMismatch(offset: Int)

    /// A readable explanation naming the record's offset.
    public var description: String {
        switch self {
        case .truncated(let offset): "TFRecord: truncated record at byte \(offset)"
        case .lengthChecksumMismatch(let offset): "TFRecord: length checksum mismatch in the record at byte \(offset)"
        case .dataChecksumMismatch(let offset): "TFRecord: data checksum mismatch in the record at byte \(offset)"
        }
    }
}
