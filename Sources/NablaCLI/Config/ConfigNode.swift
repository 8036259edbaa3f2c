import Foundation
import Yams

/// A YAML node of a config file together with where it came from, with typed readers that throw
/// `ConfigError`s naming the file, line and field.
public struct ConfigNode {
    /// The underlying YAML node.
    public let node: Yams.Node
    /// Dotted path of this node (`model.layers[2]`).
    public let path: String
    /// The file name used in errors.
    public let file: String

    /// Parses `text` (the contents of `file`) and returns its root mapping.
    public static func parse(_ text: String, file: String) throws -> ConfigNode {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigNode.syntaxError(error, file: file)
        }
        guard let root else {
            throw ConfigError(file: file, line: 0, column: 0, field: "", message: "the file is empty; expected a mapping with model, solver and data")
        }
        let top = ConfigNode(node: root, path: "", file: file)
        guard root.mapping != nil else { throw top.error("expected a mapping (key: value lines) at the top level") }
        return top
    }

    private static func syntaxError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, field: "", message: "YAML syntax error: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ConfigError(file: file, line: context.mark.line, column: context.mark.column, field: "",
                               message: "duplicated keys \(duplicates)")
        default:
            return ConfigError(file: file, line: 0, column: 0, field: "", message: "YAML error: \(error)")
        }
    }

    /// An error located at this node.
    public func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, field: path, message: message)
    }

    private func child(_ n: Yams.Node, _ suffix: String) -> ConfigNode {
        ConfigNode(node: n, path: path.isEmpty ? suffix : path + "." + suffix, file: file)
    }

    // MARK: structure

    /// The keys of this mapping, in file order (empty for a non-mapping).
    public var keys: [String] { node.mapping?.keys.compactMap(\.string) ?? [] }

    /// The value under `key`, or nil when absent (an error when this node is not a mapping).
    public func optional(_ key: String) throws -> ConfigNode? {
        guard let m = node.mapping else { throw error("expected a mapping with the key '\(key)', got \(kind)") }
        return m[key].map { child($0, key) }
    }

    /// The value under `key`; a missing key is an error naming it.
    public func required(_ key: String) throws -> ConfigNode {
        guard let v = try optional(key) else {
            throw ConfigError(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0,
                              field: path.isEmpty ? key : path + "." + key,
                              message: "missing required field '\(key)' in \(path.isEmpty ? "the top-level mapping" : "'\(path)'")")
        }
        return v
    }

    /// Rejects keys other than `allowed` (catches typos such as `lerning_rate`).
    public func onlyKeys(_ allowed: [String]) throws {
        guard let m = node.mapping else { return }
        for (k, _) in m {
            let name = k.string ?? "?"
            if !allowed.contains(name) {
                throw child(k, name).error("unknown field '\(name)'; expected one of \(allowed.joined(separator: ", "))")
            }
        }
    }

    /// The elements of a sequence.
    public func elements() throws -> [ConfigNode] {
        guard let s = node.sequence else { throw error("expected a list, got \(kind)") }
        return s.enumerated().map { i, n in ConfigNode(node: n, path: "\(path)[\(i)]", file: file) }
    }

    /// What kind of node this is, for messages.
    public var kind: String {
        switch node {
        case .scalar(let s): return "\"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    // MARK: scalars

    /// The node as a string.
    public func string() throws -> String {
        guard let s = node.scalar?.string else { throw error("expected a string, got \(kind)") }
        return s
    }

    /// The node as an integer.
    public func int() throws -> Int {
        guard let s = node.scalar?.string, let v = Int(s) else { throw error("expected an integer, got \(kind)") }
        return v
    }

    /// The node as a positive integer.
    public func positiveInt() throws -> Int {
        let v = try int()
        guard v > 0 else { throw error("expected a positive integer, got \(v)") }
        return v
    }

    /// The node as a number.
    public func double() throws -> Double {
        guard let s = node.scalar?.string, let v = Double(s), v.isFinite else { throw error("expected a number, got \(kind)") }
        return v
    }

    /// The node as a boolean (`true`/`false`, `yes`/`no`).
    public func bool() throws -> Bool {
        guard let s = node.scalar?.string else { throw error("expected true or false, got \(kind)") }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, got \"\(s)\"")
        }
    }

    /// A list of numbers, or one number as a one-element list.
    public func doubles() throws -> [Double] {
        if node.sequence != nil { return try elements().map { try $0.double() } }
        return [try double()]
    }

    /// A list of positive integers, or one as a one-element list.
    public func positiveInts() throws -> [Int] {
        if node.sequence != nil { return try elements().map { try $0.positiveInt() } }
        return [try positiveInt()]
    }

    /// The node as one of `choices` (case-insensitive, `-` and `_` equivalent).
    public func choice(_ choices: [String]) throws -> String {
        let s = try string()
        let norm = s.lowercased().replacingOccurrences(of: "-", with: "_")
        guard let c = choices.first(where: { $0 == norm }) else {
            throw error("unknown value \"\(s)\"; expected one of \(choices.joined(separator: ", "))")
        }
        return c
    }
}
