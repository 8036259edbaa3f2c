import Foundation

/// Why TensorBoard could not read an event directory back.
public struct TensorBoardReaderError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
}

/// The repository root, found from this file's location.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs TensorBoard's own reader (`Scripts/read_tfevents.py` in the `.build/venv` that `make venv` creates) on
/// `logDir` and returns the `runs` object of its JSON. Throws when the venv is missing or the script fails, so a
/// test that needs the real reader fails rather than passes silently.
public func readWithTensorBoard(_ logDir: String) throws -> [String: Any] {
    let python = repositoryRoot.appendingPathComponent(".build/venv/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw TensorBoardReaderError(description: "\(python.path) is missing: run `make venv` to install TensorBoard for the TensorBoard tests")
    }
    let process = Process()
    process.executableURL = python
    process.arguments = [repositoryRoot.appendingPathComponent("Scripts/read_tfevents.py").path, logDir]
    let stdout = Pipe(), stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TensorBoardReaderError(description: "read_tfevents.py failed (\(process.terminationStatus)): \(String(decoding: err, as: UTF8.self))")
    }
    guard let runs = (try JSONSerialization.jsonObject(with: out) as? [String: Any])?["runs"] as? [String: Any] else {
        throw TensorBoardReaderError(description: "read_tfevents.py printed no `runs` object")
    }
    return runs
}
