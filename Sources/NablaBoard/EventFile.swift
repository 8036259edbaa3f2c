import Foundation
import Synchronization

/// One open `events.out.tfevents.*` file: TFRecord-framed `Event` protos, appended and never rewritten.
///
/// Every record goes to the file with one `write(2)` on an `O_APPEND` descriptor, so a reader
/// (TensorBoard) sees it at once; `sync()` asks the kernel to put it on disk.
struct EventFile {
    let path: String
    private var descriptor: Int32

    /// Numbers the files opened by this process, like PyTorch's `_global_uid`.
    private static let counter = Atomic<Int>(0)

    /// Creates `directory` when needed and opens a new events file in it, starting with the `file_version` record.
    init(directory: String, suffix: String) throws(SummaryWriterError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreateDirectory(directory, reason: "\(error)")
        }
        let time = Int(Date().timeIntervalSince1970)
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        let n = EventFile.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let name = "events.out.tfevents." + String(format: "%010d", time) + ".\(host).\(pid).\(n)" + suffix
        path = (directory as NSString).appendingPathComponent(name)
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotOpen(path, errno: errno) }
        var version = Tensorflow_Event()
        version.wallTime = Date().timeIntervalSince1970
        version.fileVersion = "brain.Event:2"
        do throws(SummaryWriterError) {
            try write(version)
        } catch {
            _ = Foundation.close(descriptor)
            throw error
        }
    }

    /// Appends `event` as one TFRecord.
    func write(_ event: Tensorflow_Event) throws(SummaryWriterError) {
        let bytes: [UInt8]
        do { bytes = try event.serializedBytes() } catch { throw .serialization("\(error)") }
        let record = TFRecord.encode(bytes)
        var written = 0
        while written < record.count {
            let n = record.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + written, record.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path, errno: errno)
            }
            written += n
        }
    }

    /// Flushes the file to disk (`fsync`).
    func sync() throws(SummaryWriterError) {
        guard fsync(descriptor) == 0 else { throw .cannotWrite(path, errno: errno) }
    }

    /// Closes the file; the value must not be used after.
    mutating func close() throws(SummaryWriterError) {
        defer { descriptor = -1 }
        guard descriptor >= 0 else { return }
        guard Foundation.close(descriptor) == 0 else { throw .cannotWrite(path, errno: errno) }
    }
}

/// Why a `SummaryWriter` could not write its log.
public enum SummaryWriterError: Error, Equatable, CustomStringConvertible {
    /// The log directory could not be created.
    case cannotCreateDirectory(String, reason: String)
    /// The events file could not be created.
    case cannotOpen(String, errno: Int32)
    /// Writing, flushing or closing the events file failed.
    case cannotWrite(String, errno: Int32)
    /// A protobuf message could not be serialized.
    case serialization(String)
    /// The image could not be encoded as PNG.
    case image(PNGError)

    /// A readable explanation naming the path.
    public var description: String {
        switch self {
        case .cannotCreateDirectory(let dir, let reason): "SummaryWriter: cannot create directory \(dir): \(reason)"
        case .cannotOpen(let path, let e): "SummaryWriter: cannot open \(path): \(String(cString: strerror(e)))"
        case .cannotWrite(let path, let e): "SummaryWriter: cannot write \(path): \(String(cString: strerror(e)))"
        case .serialization(let reason): "SummaryWriter: cannot serialize an event: \(reason)"
        case .image(let error): "SummaryWriter: \(error)"
        }
    }
}
