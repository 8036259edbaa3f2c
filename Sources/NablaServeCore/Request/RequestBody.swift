import Nabla

extension JSONValue {
    /// Parses a request body with Nabla's JSON reader (`JSONValue.parse`), as the server needs it: an empty body and
    /// every syntax error are a 400 that names the problem and its byte offset.
    /// - Parameters:
    ///   - bytes: the body (UTF-8).
    ///   - maxDepth: the deepest nesting of arrays and objects accepted.
    /// - Throws: `ServeError` (400): empty, not JSON, truncated, nested too deep, NaN, a number out of range, bad
    ///   UTF-8, a duplicate key, data after the value.
    public static func parseRequestBody(_ bytes: [UInt8], maxDepth: Int = 32) throws(ServeError) -> JSONValue {
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
            throw .badRequest("the body is empty; expected a JSON object")
        }
        do {
            return try JSONValue.parse(bytes, maxDepth: maxDepth)
        } catch {
            throw .badRequest("the body is not valid JSON: \(error)")
        }
    }
}
