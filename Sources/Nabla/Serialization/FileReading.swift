#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file read by position (`pread`), closed when released. Used by the tensor readers.
final class ReadableFile {
    let path: String
    private let fd: Int32
    /// Size in bytes at opening time.
    let size: Int

    init(_ path: String) throws(SerializationError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot open file: \(AtomicFile.errorText())") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { close(fd); throw .io(path: path, reason: "cannot stat file: \(AtomicFile.errorText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { close(fd); throw .io(path: path, reason: "not a regular file") }
        self.fd = fd
        self.size = Int(st.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset` into `buffer`; throws `truncated` naming `what` when the file is shorter.
    func read(at offset: Int, count: Int, into buffer: UnsafeMutableRawPointer, what: String) throws(SerializationError) {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: "read failed: \(AtomicFile.errorText())")
            }
            if n == 0 { throw .truncated(path: path, what: what, expected: offset + count, got: offset + done) }
            done += n
        }
    }

    /// Reads `count` bytes at `offset` as an array.
    func bytes(at offset: Int, count: Int, what: String) throws(SerializationError) -> [UInt8] {
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        var failure: SerializationError?
        out.withUnsafeMutableBytes { buf in
            do throws(SerializationError) { try read(at: offset, count: count, into: buf.baseAddress!, what: what) }
            catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }

    /// The whole file.
    func all() throws(SerializationError) -> [UInt8] { try bytes(at: 0, count: size, what: "the file") }
}
