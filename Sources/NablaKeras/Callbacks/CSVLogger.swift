import Foundation
import NablaNN

/// Appends one line of logs per epoch to a CSV file, flushed at once (`keras.callbacks.CSVLogger`).
///
/// Columns are `epoch` then the log names sorted; with `append: true` an existing file keeps its
/// lines and no second header is written.
public final class CSVLogger: Callback {
    /// Runs on rank 0 only under `mpirun` (it writes files).
    public override var rankZeroOnly: Bool { true }
    /// The file written.
    public let filename: String
    /// The column separator.
    public let separator: String
    /// Whether to add to an existing file instead of replacing it.
    public let append: Bool
    private var handle: FileHandle?
    private var keys: [String]?

    /// Creates the callback.
    public init(_ filename: String, separator: String = ",", append: Bool = false) {
        self.filename = filename; self.separator = separator; self.append = append
    }

    /// Opens the file (creating or truncating it unless appending).
    public override func onTrainBegin(logs: Logs) {
        let fm = FileManager.default
        let existed = fm.fileExists(atPath: filename)
        if !append || !existed { _ = fm.createFile(atPath: filename, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: filename) else {
            nablaFail("CSVLogger: cannot open \(filename) for writing")
        }
        h.seekToEndOfFile()
        handle = h
        keys = nil
        if append && existed, let text = try? String(contentsOfFile: filename, encoding: .utf8),
           let header = text.split(separator: "\n").first {
            keys = header.split(separator: Character(separator)).dropFirst().map(String.init)
        }
    }

    /// Writes the epoch's line (and the header first, if new) and flushes it.
    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let h = handle else { return }
        var out = ""
        if keys == nil {
            keys = logs.keys.sorted()
            out += (["epoch"] + keys!).joined(separator: separator) + "\n"
        }
        out += ([String(epoch)] + keys!.map { logs[$0].map { String($0) } ?? "" }).joined(separator: separator) + "\n"
        h.write(Data(out.utf8))
        h.synchronizeFile()
    }

    /// Closes the file.
    public override func onTrainEnd(logs: Logs) {
        handle?.closeFile()
        handle = nil
    }
}
