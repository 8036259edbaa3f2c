#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files atomically: readers see either the old file or the complete new one, never a partial write.
///
/// The bytes go to a temporary file in the same directory, which is flushed to disk (`fsync`) and then
/// renamed over `path`; on any failure the temporary file is removed and `path` is left untouched.
/// A process killed mid-write leaves its temporary file (`<name>.tmp-<pid>-<random>-<namespace>`) behind: the next
/// write to the same folder removes every such file whose process is gone (`removeStaleTemporaryFiles(in:)`). The
/// name carries the writer's PID namespace, so a writer in another container sharing the folder (whose pid means
/// nothing here) keeps its file until it is a day old.
/// Every Nabla writer (safetensors, npy, npz, checkpoints) goes through it.
/// ```swift
/// try AtomicFile.write(to: "weights.bin") { write in try write(bytes) }
/// ```
public enum AtomicFile {
    /// Creates `path` from the chunks `body` passes to `write`, atomically.
    public static func write(to path: String, _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let dir = directory(of: path)
        removeStaleTemporaryFiles(in: dir)
        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(pidNamespace)"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SerializationError.io(path: path, reason: "cannot create temporary file \(tmp): \(errorText())") }
        var committed = false
        defer { if !committed { close(fd); unlink(tmp) } }
        try body { chunk in
            var done = 0
            while done < chunk.count {
                let n = Glibc_write(fd, chunk.baseAddress! + done, chunk.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SerializationError.io(path: path, reason: "write failed: \(errorText())")
                }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw SerializationError.io(path: path, reason: "fsync failed: \(errorText())") }
        committed = true
        guard close(fd) == 0 else { unlink(tmp); throw SerializationError.io(path: path, reason: "close failed: \(errorText())") }
        guard rename(tmp, path) == 0 else {
            let reason = errorText()
            unlink(tmp)
            throw SerializationError.io(path: path, reason: "cannot rename temporary file into place: \(reason)")
        }
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Creates `path` holding `bytes`, atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { w in try bytes.withUnsafeBytes { try w($0) } }
    }

    /// The temporary files of interrupted writes in `directory` (names `<name>.tmp-<pid>-<random>-<namespace>`, or
    /// `<name>.tmp-<pid>-<random>` from older writers), with the writing process's id and PID namespace (nil for
    /// the older names, taken as this namespace).
    public static func temporaryFiles(in directory: String) -> [(path: String, pid: Int32, namespace: UInt64?)] {
        guard let d = opendir(directory) else { return [] }
        defer { closedir(d) }
        var out: [(String, Int32, UInt64?)] = []
        while let entry = readdir(d) {
            // The name is read in place as a C string: copying `d_name` as a value would read all of its declared
            // 256 bytes, past the end of a short record, and past the end of readdir's buffer for the last one
            // (a crash when that buffer ends a mapping).
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            guard let (pid, ns) = temporaryFileOwner(name) else { continue }
            out.append((directory == "/" ? "/" + name : directory + "/" + name, pid, ns))
        }
        return out
    }

    /// Where `d_name` lies in a `dirent`.
    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    /// Removes the temporary files of interrupted writes in `directory` whose writer is gone; returns how many were
    /// removed. A file written in this PID namespace goes when its process no longer runs (a write in progress is
    /// kept); a file from another namespace, whose pid cannot be checked from here, goes when it has not been
    /// modified for `foreignAge` seconds (a day).
    @discardableResult
    public static func removeStaleTemporaryFiles(in directory: String) -> Int {
        var removed = 0
        let here = pidNamespace
        for (path, pid, ns) in temporaryFiles(in: directory) {
            let stale = (ns ?? here) == here ? pid != getpid() && !processIsAlive(pid) : secondsSinceModified(path) > foreignAge
            if stale && unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// How long a temporary file from another PID namespace must sit unmodified before a write here removes it.
    public static let foreignAge: Double = 86_400

    /// The process id and PID namespace in a temporary file name `<name>.tmp-<pid>-<random>[-<namespace>]`, or nil
    /// for other names.
    static func temporaryFileOwner(_ name: String) -> (pid: Int32, namespace: UInt64?)? {
        guard let r = name.ranges(of: ".tmp-").last else { return nil }
        let parts = name[r.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let pid = Int32(parts[0]), pid > 0, UInt32(parts[1]) != nil else { return nil }
        if parts.count == 2 { return (pid, nil) }
        guard let ns = UInt64(parts[2]) else { return nil }
        return (pid, ns)
    }

    /// This process's PID namespace: the inode of `/proc/self/ns/pid` on Linux, 0 where there is none.
    package static let pidNamespace: UInt64 = {
        var st = stat()
        return stat("/proc/self/ns/pid", &st) == 0 ? UInt64(st.st_ino) : 0
    }()

    /// Seconds since `path` was last modified (0 when it cannot be read).
    static func secondsSinceModified(_ path: String) -> Double {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        #if canImport(Darwin)
        let mtime = Double(st.st_mtimespec.tv_sec)
        #else
        let mtime = Double(st.st_mtim.tv_sec)
        #endif
        return Double(time(nil)) - mtime
    }

    static func processIsAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
