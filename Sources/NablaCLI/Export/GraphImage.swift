import Foundation
import Nabla

/// Writes a compiled graph as a picture for `nabla graph`: Graphviz DOT text (`.dot`, `.gv`), or an image rendered
/// by Graphviz's `dot` program (`.png`, `.svg`, `.pdf`), which `make deps` installs (Debian's `graphviz`).
public enum GraphImage {
    /// The formats by file extension: nil for DOT text, else `dot`'s `-T` value.
    static func format(of path: String) throws -> String? {
        switch (path as NSString).pathExtension.lowercased() {
        case "dot", "gv": return nil
        case "png": return "png"
        case "svg": return "svg"
        case "pdf": return "pdf"
        default:
            throw TrainError("nabla graph: cannot tell the format of '\(path)': expected a file ending in .png, .svg, .pdf or .dot")
        }
    }

    /// Writes `graph` to `path` (atomically: readers never see half a file).
    /// - Throws: `TrainError` for an unknown extension, a missing `dot` program, or a failed rendering.
    public static func write(_ graph: CompiledGraph, to path: String) throws {
        let text = graph.dot()
        guard let fmt = try format(of: path) else {
            try AtomicFile.write(Array(text.utf8), to: path)
            return
        }
        guard let dot = findProgram("dot") else {
            throw TrainError("nabla graph: rendering \(path) needs Graphviz's `dot` program, which is not on PATH (install the `graphviz` package, as `make deps` does), or write a .dot file instead")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dot)
        process.arguments = ["-T\(fmt)"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Write and read concurrently so neither pipe fills up.
        let writer = Thread { input.fileHandleForWriting.write(Data(text.utf8)); try? input.fileHandleForWriting.close() }
        writer.start()
        let image = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, !image.isEmpty else {
            throw TrainError("nabla graph: `dot -T\(fmt)` failed (exit \(process.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
        try AtomicFile.write([UInt8](image), to: path)
    }

    /// The full path of `name` in one of PATH's folders, if it is there and executable.
    static func findProgram(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
