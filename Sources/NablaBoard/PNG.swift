import CZlib

/// A minimal PNG encoder (8 bits per channel, no interlacing) for image summaries.
///
/// Rows are filtered with PNG's `Up` filter and deflated with zlib; chunks carry CRC-32s.
///
/// ```swift
/// let png = try PNG.encode(pixels: [255, 0, 0], width: 1, height: 1, channels: 3)  // one red pixel
/// ```
public enum PNG {
    /// Encodes interleaved 8-bit pixels, row-major `height × width × channels`, as a PNG file.
    ///
    /// - Parameters:
    ///   - pixels: `width * height * channels` bytes, channels interleaved (HWC).
    ///   - width: Image width in pixels (at least 1).
    ///   - height: Image height in pixels (at least 1).
    ///   - channels: 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
    /// - Returns: The bytes of the PNG file.
    /// - Throws: `PNGError` when the sizes disagree or zlib fails.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws(PNGError) -> [UInt8] {
        let colorTypes: [Int: UInt8] = [1: 0, 2: 4, 3: 2, 4: 6]
        guard let colorType = colorTypes[channels] else { throw .unsupportedChannels(channels) }
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max),
              pixels.count == width * height * channels else {
            throw .sizeMismatch(expected: max(0, width * height * channels), got: pixels.count)
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        pixels.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * (stride + 1)
                    dst[row] = y == 0 ? 0 : 2  // filter None for the first row, Up after it
                    for x in 0..<stride {
                        let value = src[y * stride + x]
                        dst[row + 1 + x] = y == 0 ? value : value &- src[(y - 1) * stride + x]
                    }
                }
            }
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, colorType, 0, 0, 0]  // bit depth, color type, deflate, adaptive filtering, no interlace
        appendChunk("IHDR", header, to: &out)
        appendChunk("IDAT", try deflate(raw), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// zlib-wrapped deflate of `bytes` (what an IDAT chunk holds).
    static func deflate(_ bytes: [UInt8]) throws(PNGError) -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = out.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                compress2(dst.baseAddress, &capacity, src.baseAddress, uLong(src.count), Z_DEFAULT_COMPRESSION)
            }
        }
        guard status == Z_OK else { throw .zlib(status: Int(status)) }
        return Array(out.prefix(Int(capacity)))
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian(UInt32(data.count))
        out += typeBytes
        out += data
        out += bigEndian(CRC.crc32(typeBytes + data))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

/// Why `PNG.encode` could not encode an image.
public enum PNGError: Error, Equatable, CustomStringConvertible {
    /// Only 1, 2, 3 or 4 channels can be encoded.
    case unsupportedChannels(Int)
    /// The pixel buffer does not hold `width * height * channels` bytes.
    case sizeMismatch(expected: Int, got: Int)
    /// zlib's `compress2` returned an error status.
    case zlib(status: Int)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .unsupportedChannels(let c): "PNG: \(c) channels, expected 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)"
        case .sizeMismatch(let expected, let got): "PNG: expected \(expected) pixel bytes, got \(got)"
        case .zlib(let status): "PNG: zlib compress2 failed with status \(status)"
        }
    }
}
