import Foundation

/// Resolves a checkpoint path as a user types it into the file to load.
///
/// `nabla eval` and `nabla predict` take `--checkpoint` through this one helper, so every spelling the README shows
/// works:
/// - a weights or checkpoint file (`runs/NAME/model.safetensors`, `runs/NAME/checkpoints/epoch-0003.safetensors`)
///   is returned as it is;
/// - the pointer file `runs/NAME/checkpoints/latest` (one line naming a checkpoint of its folder) is followed;
/// - a folder holding such a pointer (`runs/NAME/checkpoints`), or a run folder (`runs/NAME`), is followed through
///   its `latest`.
///
/// The pointer must name a file in its own folder: a name with `/` or `..` is refused, as `--resume` refuses it.
/// - Throws: `TrainError` naming the path when it does not exist, a pointer is empty or names a missing or
///   outside file, or a folder has no `latest` pointer.
public func resolveCheckpointPath(_ path: String) throws -> String {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw TrainError("checkpoint \(path): no such file or folder") }
    if isDir.boolValue {
        for pointer in [path + "/latest", path + "/checkpoints/latest"] where fm.fileExists(atPath: pointer) {
            return try followPointer(pointer)
        }
        throw TrainError("checkpoint \(path) is a folder without a `latest` pointer (nor checkpoints/latest): "
            + "pass a checkpoint file such as \(path)/epoch-0001.safetensors")
    }
    return isPointerFile(path) ? try followPointer(path) : path
}

/// Whether `path` is a small one-line text file naming a file (a `latest` pointer) rather than a weights file or a
/// data file (a CSV, JSON or YAML file is never taken for a pointer).
func isPointerFile(_ path: String) -> Bool {
    let ext = (path as NSString).pathExtension.lowercased()
    guard !["csv", "tsv", "json", "yaml", "yml", "npy", "npz", "safetensors", "pt", "pth", "bin"].contains(ext) else { return false }
    guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
          let size = (attrs[.size] as? NSNumber)?.intValue, size > 0, size <= 4096,
          let data = FileManager.default.contents(atPath: path) else { return false }
    let bytes = [UInt8](data)
    // A safetensors file starts with its header length, then `{`.
    if bytes.count >= 9, bytes[8] == UInt8(ascii: "{") { return false }
    guard bytes.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || $0 >= 32 }),
          let text = String(data: data, encoding: .utf8) else { return false }
    let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    return lines.count == 1 && !lines[0].contains(where: { $0 == "," || $0 == " " || $0 == "\t" || $0 == ";" })
}

/// The file that the pointer `pointer` names, in the pointer's folder.
private func followPointer(_ pointer: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: pointer),
          let name = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty else {
        throw TrainError("checkpoint pointer \(pointer) is empty or unreadable")
    }
    guard !name.contains("/"), !name.contains("\\"), name != ".", name != "..", !name.contains("\n") else {
        throw TrainError("checkpoint pointer \(pointer) names '\(name)', which is not a file name in its folder")
    }
    let dir = (pointer as NSString).deletingLastPathComponent
    let target = dir.isEmpty ? name : dir + "/" + name
    guard FileManager.default.fileExists(atPath: target) else {
        throw TrainError("checkpoint pointer \(pointer) names \(name), but \(target) does not exist")
    }
    return target
}
