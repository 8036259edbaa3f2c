import CZlib

// A minimal ZIP reader and writer for `.npz` archives: stored and deflate members, CRC-32 checked,
// ZIP64 sizes and offsets understood when reading. Deflate runs through zlib in raw mode.

/// One member of a ZIP archive, located in the central directory.
struct ZipMember {
    let name: String
    let method: Int
    let crc: UInt32
    let compressedSize: Int
    let size: Int
    let localHeaderOffset: Int
}

enum Zip {
    static func u16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
    static func u32(_ b: [UInt8], _ o: Int) -> Int { u16(b, o) | u16(b, o + 2) << 16 }
    static func u64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(u32(b, o)) | UInt64(u32(b, o + 4)) << 32 }
    static func int64(_ v: UInt64) -> Int { v > UInt64(Int.max) ? Int.max : Int(v) }

    /// The members listed in the central directory of the archive `b`.
    static func members(_ b: [UInt8], path: String) throws(SerializationError) -> [ZipMember] {
        guard b.count >= 22 else { throw .truncated(path: path, what: "the zip end-of-directory record", expected: 22, got: b.count) }
        var eocd = -1
        var p = b.count - 22
        let lowest = max(0, b.count - 22 - 65535)
        while p >= lowest { if u32(b, p) == 0x0605_4B50 { eocd = p; break }; p -= 1 }
        guard eocd >= 0 else { throw .badHeader(path: path, reason: "not a zip archive (no end-of-central-directory record)") }
        var entries = u16(b, eocd + 10)
        var cdSize = u32(b, eocd + 12)
        var cdOffset = u32(b, eocd + 16)
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            let loc = eocd - 20
            guard loc >= 0, u32(b, loc) == 0x0706_4B50 else { throw .badHeader(path: path, reason: "zip64 locator missing") }
            let z = int64(u64(b, loc + 8))
            guard z <= b.count - 56, u32(b, z) == 0x0606_4B50 else { throw .badHeader(path: path, reason: "zip64 end-of-directory record out of range") }
            entries = int64(u64(b, z + 32)); cdSize = int64(u64(b, z + 40)); cdOffset = int64(u64(b, z + 48))
        }
        guard cdOffset <= b.count, cdSize <= b.count - cdOffset else {
            throw .badHeader(path: path, reason: "central directory [\(cdOffset), +\(cdSize)] lies outside the \(b.count)-byte file")
        }
        var out: [ZipMember] = []
        var o = cdOffset
        let end = cdOffset + cdSize
        for _ in 0..<entries {
            guard end - o >= 46, u32(b, o) == 0x0201_4B50 else { throw .badHeader(path: path, reason: "bad central directory entry at byte \(o)") }
            let flags = u16(b, o + 8), method = u16(b, o + 10)
            let crc = UInt32(u32(b, o + 16))
            var csize = u32(b, o + 20), usize = u32(b, o + 24)
            let nlen = u16(b, o + 28), xlen = u16(b, o + 30), clen = u16(b, o + 32)
            var local = u32(b, o + 42)
            guard end - o - 46 >= nlen + xlen + clen else { throw .badHeader(path: path, reason: "central directory entry at byte \(o) overruns the directory") }
            guard let name = String(validating: b[(o + 46)..<(o + 46 + nlen)], as: UTF8.self) else {
                throw .badHeader(path: path, reason: "member name at byte \(o) is not valid UTF-8")
            }
            guard flags & 1 == 0 else { throw .invalidRequest(path: path, reason: "member '\(name)' is encrypted") }
            // ZIP64 extra field: the 64-bit values of the fields saturated at 0xFFFFFFFF, in order.
            var x = o + 46 + nlen
            let xend = x + xlen
            while xend - x >= 4 {
                let id = u16(b, x), size = u16(b, x + 2)
                guard xend - x - 4 >= size else { break }
                if id == 0x0001 {
                    var f = x + 4
                    let fend = f + size
                    if usize == 0xFFFF_FFFF, fend - f >= 8 { usize = int64(u64(b, f)); f += 8 }
                    if csize == 0xFFFF_FFFF, fend - f >= 8 { csize = int64(u64(b, f)); f += 8 }
                    if local == 0xFFFF_FFFF, fend - f >= 8 { local = int64(u64(b, f)) }
                }
                x += 4 + size
            }
            out.append(ZipMember(name: name, method: method, crc: crc, compressedSize: csize, size: usize, localHeaderOffset: local))
            o += 46 + nlen + xlen + clen
        }
        return out
    }

    /// The uncompressed bytes of `m`, CRC-checked.
    static func extract(_ m: ZipMember, from b: [UInt8], path: String) throws(SerializationError) -> [UInt8] {
        let lo = m.localHeaderOffset
        guard lo <= b.count - 30, u32(b, lo) == 0x0403_4B50 else { throw .badHeader(path: path, reason: "member '\(m.name)': bad local header at byte \(lo)") }
        let start = lo + 30 + u16(b, lo + 26) + u16(b, lo + 28)
        guard start <= b.count, m.compressedSize <= b.count - start else {
            throw .truncated(path: path, what: "member '\(m.name)'", expected: start + m.compressedSize, got: b.count)
        }
        let data = b[start..<(start + m.compressedSize)]
        let out: [UInt8]
        switch m.method {
        case 0:
            guard m.size == m.compressedSize else { throw .corrupt(path: path, reason: "member '\(m.name)': stored sizes differ (\(m.compressedSize) vs \(m.size))") }
            out = Array(data)
        case 8:
            // Deflate expands at most ~1032:1; a larger declared size is a lie, refuse before allocating.
            guard m.size <= m.compressedSize * 1032 + 64 else { throw .corrupt(path: path, reason: "member '\(m.name)': declared size \(m.size) is impossible for \(m.compressedSize) compressed bytes") }
            let cap = ReaderLimits.current.maxDecompressedBytes
            guard m.size <= cap else {
                throw .corrupt(path: path, reason: "member '\(m.name)': declared size \(m.size) exceeds the limit of \(cap) bytes (ReaderLimits.maxDecompressedBytes)")
            }
            out = try inflateRaw(data, size: m.size, path: path, name: m.name)
        default:
            throw .invalidRequest(path: path, reason: "member '\(m.name)': unsupported compression method \(m.method) (only stored and deflate)")
        }
        let crc = out.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count))) }
        guard crc == m.crc else { throw .corrupt(path: path, reason: "member '\(m.name)': CRC-32 mismatch (stored \(m.crc), computed \(crc))") }
        return out
    }

    /// Raw-deflate inflation of `data` into exactly `size` bytes.
    static func inflateRaw(_ data: ArraySlice<UInt8>, size: Int, path: String, name: String) throws(SerializationError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(size, 1))
        var strm = z_stream()
        guard inflateInit2_(&strm, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt(path: path, reason: "member '\(name)': zlib initialisation failed")
        }
        defer { inflateEnd(&strm) }
        var rc: Int32 = Z_OK
        data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var inPos = 0
                strm.next_out = dst.bindMemory(to: UInt8.self).baseAddress
                strm.avail_out = uInt(size)
                while rc == Z_OK {
                    if strm.avail_in == 0 && inPos < src.count {
                        let n = min(src.count - inPos, 1 << 30)
                        strm.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: UInt8.self).baseAddress! + inPos)
                        strm.avail_in = uInt(n)
                        inPos += n
                    }
                    rc = inflate(&strm, Z_NO_FLUSH)
                    if rc == Z_OK && strm.avail_in == 0 && inPos >= src.count { rc = Z_BUF_ERROR }
                }
            }
        }
        guard rc == Z_STREAM_END, Int(strm.total_out) == size else {
            throw .corrupt(path: path, reason: "member '\(name)': deflate stream is corrupt or does not hold \(size) bytes (zlib code \(rc))")
        }
        out.removeLast(out.count - size)
        return out
    }

    /// Raw-deflate compression of `data`.
    static func deflateRaw(_ data: [UInt8]) -> [UInt8] {
        var strm = z_stream()
        _ = deflateInit2_(&strm, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&strm) }
        let bound = Int(deflateBound(&strm, uLong(data.count))) + 64
        var out = [UInt8](repeating: 0, count: bound)
        data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                strm.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: UInt8.self).baseAddress)
                strm.avail_in = uInt(data.count)
                strm.next_out = dst.bindMemory(to: UInt8.self).baseAddress
                strm.avail_out = uInt(bound)
                _ = deflate(&strm, Z_FINISH)
            }
        }
        out.removeLast(out.count - Int(strm.total_out))
        return out
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
    static func le32(_ v: Int) -> [UInt8] { le16(v) + le16(v >> 16) }

    /// Writes an archive of `(name, bytes)` members to `write`; deflated when `compressed`.
    static func write(_ members: [(String, [UInt8])], compressed: Bool, path: String,
                      to write: (UnsafeRawBufferPointer) throws -> Void) throws {
        var central: [UInt8] = []
        var offset = 0
        for (name, raw) in members {
            let body = compressed ? deflateRaw(raw) : raw
            let crc = raw.withUnsafeBytes { Int(crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count))) }
            guard raw.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF else {
                throw SerializationError.invalidRequest(path: path, reason: "member '\(name)' is larger than 4 GiB, which this zip writer does not support")
            }
            let nameBytes = Array(name.utf8)
            let flags = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
            let method = compressed ? 8 : 0
            let common = le16(20) + le16(flags) + le16(method) + le16(0) + le16(0x21) + le32(crc) + le32(body.count) + le32(raw.count) + le16(nameBytes.count) + le16(0)
            let local = le32(0x0403_4B50) + common + nameBytes
            central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + nameBytes
            try local.withUnsafeBytes { try write($0) }
            try body.withUnsafeBytes { try write($0) }
            offset += local.count + body.count
        }
        guard members.count < 0xFFFF, offset < 0xFFFF_FFFF else {
            throw SerializationError.invalidRequest(path: path, reason: "archive too large for a non-zip64 writer")
        }
        let eocd = le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count) + le32(central.count) + le32(offset) + le16(0)
        try (central + eocd).withUnsafeBytes { try write($0) }
    }
}
