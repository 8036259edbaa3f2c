import Foundation

/// A fresh temporary folder for reader tests; removed by `remove()`.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var path: String { url.path }
    /// Writes `bytes` to `name` inside the folder and returns the file's path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = url.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
    /// Writes `text` (UTF-8) to `name` and returns the file's path.
    @discardableResult
    func write(_ name: String, text: String) -> String { write(name, Array(text.utf8)) }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// An IDX file of unsigned bytes with the given dimensions.
func idxBytes(_ dims: [Int], _ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, 8, UInt8(dims.count)]
    for d in dims { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return out + data
}
