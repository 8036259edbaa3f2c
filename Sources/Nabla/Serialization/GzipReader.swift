import CZlib

/// Why a `GzipReader` failed: zlib's message.
package struct GzipReadError: Error {
    /// zlib's description of the problem.
    package let reason: String
}

/// A file read through zlib's gzip reader (plain files pass through unchanged), closed when released. The one place
/// outside the core's own formats that touches zlib, so the data targets import no C module.
package final class GzipReader {
    private let file: gzFile

    /// Opens `path`; throws when it cannot be opened.
    package init(path: String) throws(GzipReadError) {
        guard let f = gzopen(path, "rb") else { throw GzipReadError(reason: "cannot open \(path)") }
        file = f
    }

    deinit { gzclose(file) }

    /// Up to `count` more bytes (fewer at the end of the data); grows its buffer as data arrives, so a
    /// large `count` allocates only what the file holds.
    package func read(upTo count: Int) throws(GzipReadError) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(count, 1), 1 << 20))
        while out.count < count {
            let want = min(chunk.count, count - out.count)
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(want)) }
            if n < 0 {
                var err: Int32 = 0
                throw GzipReadError(reason: gzerror(file, &err).map { String(cString: $0) } ?? "unknown error")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        return out
    }
}
