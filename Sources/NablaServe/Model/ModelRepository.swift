import Foundation
import Logging
import NablaServeCore
import Synchronization

/// The state of one model version, as TF Serving reports it in `model_version_status`.
public enum VersionState: String, Sendable {
    /// Seen, not loaded yet.
    case start = "START"
    /// Being loaded.
    case loading = "LOADING"
    /// Serving requests.
    case available = "AVAILABLE"
    /// Being unloaded.
    case unloading = "UNLOADING"
    /// Unloaded after a newer version replaced it, or failed to load (then with an error message).
    case end = "END"
}

/// A version that is serving: its number and its model.
public struct LoadedVersion: Sendable {
    /// The version number (the folder's name).
    public let version: Int64
    /// The model.
    public let model: any ServableModel
}

/// The numeric version folders of one model's base path, the version being served, and the state of each.
///
/// `poll()` looks at the folders, loads the newest version when it is not the one serving (in the calling thread)
/// and swaps it in atomically: requests that already hold the old version finish on it. A version that fails to
/// load is reported (state END with the error) and the old version keeps serving; it is tried again only when its
/// files change.
final class ModelRepository: Sendable {
    /// The model's name.
    let name: String
    /// The folder holding the version folders.
    let basePath: String
    let logger: Logger

    private struct State {
        var current: LoadedVersion?
        var statuses: [Int64: (state: VersionState, error: String?)] = [:]
        /// Per version that failed: the stamp (names, sizes, dates) of its files then.
        var failedStamps: [Int64: String] = [:]
    }
    private let state = Mutex(State())
    /// Called after a version is swapped in (the metrics' version gauge).
    let onSwap: @Sendable (Int64) -> Void

    /// Called with a version that loaded, before it is swapped in (the warm-up).
    let beforeSwap: @Sendable (any ServableModel) -> Void

    init(name: String, basePath: String, logger: Logger, onSwap: @escaping @Sendable (Int64) -> Void = { _ in },
         beforeSwap: @escaping @Sendable (any ServableModel) -> Void = { _ in }) {
        self.name = name; self.basePath = basePath; self.logger = logger; self.onSwap = onSwap; self.beforeSwap = beforeSwap
    }

    /// The version serving now, or nil before the first load.
    var current: LoadedVersion? { state.withLock { $0.current } }

    /// Every version seen, newest first, with its state and error message.
    var statuses: [(version: Int64, state: VersionState, error: String?)] {
        state.withLock { s in s.statuses.sorted { $0.key > $1.key }.map { ($0.key, $0.value.state, $0.value.error) } }
    }

    /// The numeric folders under the base path: version → folder path. A name of digits only, at most 18 of them.
    func versionFolders() -> [Int64: String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: basePath) else { return [:] }
        var out: [Int64: String] = [:]
        for n in names where !n.isEmpty && n.count <= 18 && n.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            var isDir: ObjCBool = false
            let path = basePath + "/" + n
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue, let v = Int64(n) { out[v] = path }
        }
        return out
    }

    /// A stamp of the files of a folder: it changes when a file is added, replaced or rewritten.
    private func stamp(_ folder: String) -> String {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return names.map { n -> String in
            let a = try? fm.attributesOfItem(atPath: folder + "/" + n)
            let size = (a?[.size] as? NSNumber)?.int64Value ?? -1
            let date = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(n):\(size):\(date)"
        }.joined(separator: "|")
    }

    /// Looks at the version folders once; loads and swaps in the newest when it is not serving. Blocks while it loads.
    /// - Returns: whether a new version was swapped in.
    @discardableResult
    func poll() -> Bool {
        let folders = versionFolders()
        guard let newest = folders.keys.max(), let folder = folders[newest] else { return false }
        let stampNow = stamp(folder)
        let go = state.withLock { s -> Bool in
            for v in folders.keys where s.statuses[v] == nil { s.statuses[v] = (.start, nil) }
            if s.current?.version == newest { return false }
            if let failed = s.failedStamps[newest], failed == stampNow { return false }
            s.statuses[newest] = (.loading, nil)
            return true
        }
        guard go else { return false }
        logger.info("loading version \(newest) of model \(name) from \(folder)")
        do {
            let model = try ModelLoaders.load(folder: folder)
            beforeSwap(model)
            let loaded = LoadedVersion(version: newest, model: model)
            let old = state.withLock { s -> Int64? in
                let old = s.current?.version
                s.current = loaded
                s.statuses[newest] = (.available, nil)
                s.failedStamps[newest] = nil
                if let old { s.statuses[old] = (.end, nil) }
                return old
            }
            onSwap(newest)
            let replaced = old.map { " (replaces version \($0))" } ?? ""
            logger.info("serving version \(newest) of model \(name)\(replaced)")
            return true
        } catch {
            let message = (error as? ServeError)?.message ?? "\(error)"
            state.withLock { s in
                s.statuses[newest] = (.end, message)
                s.failedStamps[newest] = stampNow
            }
            let keeps = current.map { "; version \($0.version) keeps serving" } ?? ""
            logger.error("version \(newest) of model \(name) failed to load: \(message)\(keeps)")
            return false
        }
    }
}
