import Testing
import NablaBoard

@Suite struct TFRecordTests {
    @Test func crc32cKnownVectors() {
        #expect(CRC.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC.crc32c([UInt8]()) == 0)
        #expect(CRC.crc32c([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC.crc32c([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC.crc32c((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC.crc32c((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func crc32KnownVectors() {
        #expect(CRC.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC.crc32(Array("IEND".utf8)) == 0xAE42_6082)
    }

    @Test func maskedCRC32C() {
        // TensorFlow's masking: rotate right by 15 bits, add 0xa282ead8.
        let crc = CRC.crc32c(Array("123456789".utf8))
        let expected = ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
        #expect(CRC.maskedCRC32C(Array("123456789".utf8)) == expected)
    }

    @Test func framingRoundTrips() throws {
        let payloads: [[UInt8]] = [[], [1, 2, 3], Array("brain.Event:2".utf8), [UInt8](repeating: 7, count: 1000)]
        var stream: [UInt8] = []
        for p in payloads { stream += TFRecord.encode(p) }
        #expect(TFRecord.encode([1, 2, 3]).count == 3 + 16)
        #expect(Array(TFRecord.encode([1, 2, 3]).prefix(8)) == [3, 0, 0, 0, 0, 0, 0, 0])
        #expect(try TFRecord.decode(stream) == payloads)
    }

    @Test func framingRejectsCorruption() {
        var stream = TFRecord.encode([1, 2, 3])
        stream[13] ^= 0xFF
        #expect(throws: TFRecordError.dataChecksumMismatch(offset: 0)) { try TFRecord.decode(stream) }
        #expect(throws: TFRecordError.truncated(offset: 0)) { try TFRecord.decode(Array(TFRecord.encode([1, 2, 3]).dropLast())) }
        var bad = TFRecord.encode([1])
        bad[0] = 2
        #expect(throws: TFRecordError.lengthChecksumMismatch(offset: 0)) { try TFRecord.decode(bad) }
    }
}
