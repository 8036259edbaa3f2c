/// Table-driven CRC-32 checksums for the formats NablaBoard writes (the `crc32c` Python package, `zlib.crc32`).
///
/// `crc32c` (Castagnoli, reflected polynomial 0x82F63B78) frames TFRecords; `crc32`
/// (IEEE, reflected polynomial 0xEDB88320) checks PNG chunks.
public enum CRC {
    /// Lookup table for the reflected polynomial `poly`, one entry per byte value.
    private static func makeTable(_ poly: UInt32) -> [UInt32] {
        (0..<256).map { byte in
            var c = UInt32(byte)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ poly : c >> 1 }
            return c
        }
    }

    private static let castagnoli = makeTable(0x82F6_3B78)
    private static let ieee = makeTable(0xEDB8_8320)

    /// Continues the reflected CRC `crc` (pre-inverted state) over `bytes`.
    private static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer, _ table: [UInt32]) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var c = crc
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            return c
        }
    }

    /// CRC-32C (Castagnoli) of `bytes`, as in `tf.io` and iSCSI: `crc32c("123456789") == 0xE3069283`.
    public static func crc32c<B: Sequence>(_ bytes: B) -> UInt32 where B.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { ~update(~0, $0, castagnoli) }
    }

    /// The CRC-32C of `bytes` masked as TFRecord stores it: rotated right by 15 bits plus 0xA282EAD8.
    public static func maskedCRC32C<B: Sequence>(_ bytes: B) -> UInt32 where B.Element == UInt8 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// CRC-32 (IEEE 802.3, zlib, PNG) of `bytes`: `crc32("123456789") == 0xCBF43926`.
    public static func crc32<B: Sequence>(_ bytes: B) -> UInt32 where B.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { ~update(~0, $0, ieee) }
    }
}
