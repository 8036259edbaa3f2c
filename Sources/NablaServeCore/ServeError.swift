import Foundation

/// A request the server refuses or cannot answer: the HTTP status and a message naming the problem.
///
/// It is written to the client as TF Serving writes its errors, `{"error": "message"}`.
public struct ServeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The HTTP status code (400 bad input, 404 unknown model or version, 405 wrong method, 408 slow body,
    /// 413 body too large, 503 no version loaded or queue full, 500 inference failure).
    public let status: Int
    /// What was wrong, for a person.
    public let message: String

    /// Creates an error with an HTTP status and a message.
    public init(status: Int, _ message: String) {
        self.status = status; self.message = message
    }

    /// 400: the request body or its values are wrong.
    public static func badRequest(_ message: String) -> ServeError { ServeError(status: 400, message) }
    /// 404: no such model, version or endpoint.
    public static func notFound(_ message: String) -> ServeError { ServeError(status: 404, message) }
    /// 503: no version is loaded, the queue is full or the server is stopping.
    public static func unavailable(_ message: String) -> ServeError { ServeError(status: 503, message) }

    /// The message.
    public var description: String { "\(status): \(message)" }

    /// The JSON body TF Serving sends with an error: `{"error": "..."}`.
    public var jsonBody: [UInt8] {
        var out = JSONWriter()
        out.raw("{\"error\": ")
        out.string(message)
        out.raw("}")
        return out.bytes
    }
}
