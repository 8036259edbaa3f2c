/// What a request path asks for, parsed from TF Serving's URL scheme.
///
/// `/v1/models/NAME[/versions/N][/metadata]` and `/v1/models/NAME[/versions/N]:predict|:classify|:regress`,
/// `/metrics`, `/healthz`. The model name must be 1 to 128 characters of letters, digits, `_`, `-` and `.` (not
/// `.` or `..`); it is only ever compared with the served name, never used as a file path.
public enum ServeRoute: Equatable, Sendable {
    /// `GET /v1/models/NAME[/versions/N]`.
    case status(model: String, version: Int64?)
    /// `GET /v1/models/NAME[/versions/N]/metadata`.
    case metadata(model: String, version: Int64?)
    /// `POST /v1/models/NAME[/versions/N]:VERB`.
    case infer(model: String, version: Int64?, verb: String)
    /// `GET /metrics`.
    case metrics
    /// `GET /healthz`.
    case health

    /// Whether `name` is a valid model name.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D || b == 0x2E
        }
    }

    /// Parses a path (the query already removed). As TF Serving: a path outside `/v1/` is a 404; a `/v1/` path that
    /// is not one of the API's (a bad version, an extra segment, an unknown verb, no model name) is a 400
    /// `Malformed request`; a name that is not a valid model name is a 404 (no such servable).
    public static func parse(_ path: String) throws(ServeError) -> ServeRoute {
        if path == "/metrics" { return .metrics }
        if path == "/healthz" { return .health }
        let shown = String(path.prefix(200))
        guard path.hasPrefix("/v1/") else {
            throw .notFound("no such endpoint: \(shown); use /v1/models/NAME[...], /metrics or /healthz")
        }
        func malformed(_ why: String) -> ServeError { .badRequest("Malformed request: \(shown): \(why)") }
        if path == "/v1/models" { throw .badRequest("Missing model name in request.") }
        let prefix = "/v1/models/"
        guard path.hasPrefix(prefix) else { throw malformed("expected /v1/models/NAME[/versions/N][/metadata|:predict|:classify]") }
        var rest = Substring(path.dropFirst(prefix.count))
        var verb: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            verb = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, isValidName(name) else {
            throw .notFound("Servable not found for request: invalid model name in \(shown): names are 1-128 letters, digits, '_', '-' or '.'")
        }
        var k = 1
        var version: Int64?
        if parts.count > k && parts[k] == "versions" {
            guard parts.count > k + 1, let v = Int64(parts[k + 1]), v >= 0, parts[k + 1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw malformed("invalid version; expected /versions/N with N a number")
            }
            version = v
            k += 2
        }
        let tail = Array(parts[k...])
        if let verb {
            guard tail.isEmpty else { throw malformed("a verb (:predict) follows the model name or its version") }
            guard ["predict", "classify", "regress"].contains(verb) else {
                throw malformed("unknown verb :\(String(verb.prefix(64))); the verbs are :predict, :classify and :regress")
            }
            return .infer(model: name, version: version, verb: verb)
        }
        if tail.isEmpty { return .status(model: name, version: version) }
        if tail == ["metadata"] { return .metadata(model: name, version: version) }
        throw malformed("expected /v1/models/NAME[/versions/N][/metadata|:predict|:classify]")
    }
}
