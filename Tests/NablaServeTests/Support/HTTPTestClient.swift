import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client over a raw loopback socket, for the server tests: it sends exactly the bytes it
/// is given (wrong Content-Length, truncated bodies, garbage) and reads one response, every step bounded by a timeout.
struct HTTPTestClient: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body parsed as JSON (nil when it is not).
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    let port: Int
    /// Per send or receive. Generous because the server under test shares Swift's cooperative threads (one per core)
    /// with the other suites running in the same process: while their kernels hold both threads, its handlers wait
    /// (20 s timed out in full runs beside other builds); the suites' time limits still bound every test.
    var timeoutSeconds = 60

    /// An open connection.
    final class Connection: @unchecked Sendable {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }

        func send(_ bytes: [UInt8]) throws {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { throw Failure(description: "send failed: errno \(errno)") }
                sent += n
            }
        }
        func send(_ text: String) throws { try send(Array(text.utf8)) }
        /// `send`, off Swift's cooperative threads (a large body blocks until the server reads it).
        func write(_ bytes: [UInt8]) async throws { try await offPool { try self.send(bytes) } }
        /// `send` of text, off Swift's cooperative threads.
        func write(_ text: String) async throws { try await write(Array(text.utf8)) }
        /// `readResponse`, off Swift's cooperative threads.
        func response() async throws -> Response { try await offPool { try self.readResponse() } }
        /// Closes the sending side (the server sees the end of the stream).
        func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

        /// Reads one response (Content-Length bodies, or up to the connection's end).
        func readResponse() throws -> Response {
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            func fill() throws -> Bool {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 { throw Failure(description: "recv failed or timed out: errno \(errno)") }
                if n == 0 { return false }
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
            let separator: [UInt8] = [13, 10, 13, 10]
            var headerEnd: Int?
            while headerEnd == nil {
                if let r = buffer.firstRange(of: separator) { headerEnd = r.upperBound; break }
                guard try fill() else { throw Failure(description: "connection closed before a response (\(buffer.count) bytes)") }
            }
            let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
            let lines = head.components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ")
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
            var headers: [String: String] = [:]
            for l in lines.dropFirst() where l.contains(":") {
                let k = l[..<l.firstIndex(of: ":")!].lowercased()
                headers[k] = l[l.index(after: l.firstIndex(of: ":")!)...].trimmingCharacters(in: .whitespaces)
            }
            var body = Array(buffer[headerEnd!...])
            if let cl = headers["content-length"].flatMap(Int.init) {
                while body.count < cl {
                    buffer = []
                    guard try fill() else { break }
                    body += buffer
                }
                body = Array(body.prefix(cl))
            } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
                // Read to the terminating chunk, then decode.
                while !body.suffix(5).elementsEqual([48, 13, 10, 13, 10]) {
                    buffer = []
                    guard try fill() else { break }
                    body += buffer
                }
                var out: [UInt8] = [], i = 0
                while i < body.count {
                    guard let lineEnd = body[i...].firstRange(of: [13, 10]) else { break }
                    let size = Int(String(decoding: body[i..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? 0
                    if size == 0 { break }
                    out += body[lineEnd.upperBound..<min(body.count, lineEnd.upperBound + size)]
                    i = lineEnd.upperBound + size + 2
                }
                body = out
            }
            return Response(status: status, headers: headers, body: body)
        }
    }

    /// Opens a connection to 127.0.0.1:port with send and receive timeouts.
    func connect() throws -> Connection {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        let conn = Connection(fd: fd)
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw Failure(description: "connect to port \(port) failed: errno \(errno)") }
        return conn
    }

    /// One request on a new connection, blocking the calling thread.
    func requestSync(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]) throws -> Response {
        let conn = try connect()
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body, headers["Content-Length"] == nil { head += "Content-Length: \(body.count)\r\n" }
        if body != nil, headers["Content-Type"] == nil { head += "Content-Type: application/json\r\n" }
        try conn.send(head + "\r\n")
        if let body { try conn.send(body) }
        return try conn.readResponse()
    }

    func getSync(_ path: String) throws -> Response { try requestSync("GET", path) }
    func postSync(_ path: String, _ json: String) throws -> Response { try requestSync("POST", path, body: Array(json.utf8)) }

    // The async forms run the blocking socket calls on their own thread: a test that blocked one of Swift's few
    // cooperative threads would starve the server it talks to, which runs on them too.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]) async throws -> Response {
        try await offPool { try self.requestSync(method, path, body: body, headers: headers) }
    }
    func get(_ path: String) async throws -> Response { try await offPool { try self.getSync(path) } }
    func post(_ path: String, _ json: String) async throws -> Response { try await offPool { try self.postSync(path, json) } }
}

/// Runs blocking work on a new thread and awaits its result, leaving Swift's cooperative threads free.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        Thread.detachNewThread { c.resume(with: Result { try body() }) }
    }
}
