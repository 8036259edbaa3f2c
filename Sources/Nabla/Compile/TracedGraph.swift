import Foundation
import Runtime

/// A view of one buffer of a traced graph: the geometry a node reads or writes (views need no node of their own).
public struct TensorRef: Hashable, CustomStringConvertible, Sendable {
    /// Index into `CompiledGraph.buffers`.
    public var buffer: Int
    /// Sizes of the view.
    public var shape: [Int]
    /// Strides of the view, in elements.
    public var strides: [Int]
    /// First element of the view, in elements.
    public var offset: Int

    /// Whether the view is the whole buffer of `count` elements in row-major order.
    func coversContiguously(_ count: Int) -> Bool {
        offset == 0 && Shape.count(shape, op: "compile") == count && strides == Shape.contiguousStrides(shape)
    }

    /// `%b3` (the whole buffer) or `%b3[2, 5]{5, 1}+4` (a view).
    public var description: String { "%b\(buffer)\(shape)" }
}

/// What a buffer of a traced graph holds.
public enum BufferRole: Equatable, Sendable {
    /// The `k`-th argument of the compiled function, copied in at each run.
    case input(Int)
    /// A buffer that existed before the trace (a parameter, optimizer state, a running statistic): read and
    /// updated in place at each run.
    case captured
    /// Data written from the host inside the traced code (a literal): a constant.
    case constant
    /// A value computed by the graph; the memory plan decides where it lives.
    case intermediate
}

/// One buffer of a traced graph.
public struct TracedBuffer: @unchecked Sendable {
    /// What it holds.
    public var role: BufferRole
    /// Element type.
    public var dtype: DType
    /// Number of elements.
    public var count: Int
    /// The storage itself for captured and constant buffers (nil for inputs and intermediates).
    var storage: Storage?
    /// For an input: the backend of the argument's device (its copy lives there).
    var inputBackend: (any Backend)? = nil
    /// For a constant: its bytes when the trace first read it. A constant the graph then updates in place (running
    /// statistics created inside the traced code) is restored from them at the start of every run, as the Swift code
    /// would create it afresh at every call.
    var initialBytes: [UInt8]? = nil
}

/// The arguments a node's call receives at run time.
struct NodeArgs {
    /// The tensors it reads (nil where the op takes none, e.g. no bias).
    var reads: [Tensor?]
    /// The tensors it writes.
    var writes: [Tensor]
    /// The context an earlier node produced (attention, recurrent forward), for a backward.
    var context: AnyObject?
    /// The optimizer rule of this run, for `optimizerStep`.
    var rule: OptimizerRule?
}

/// What a node's call returns: tensors the backend allocated itself, and a context for a later backward.
struct NodeResult {
    var returned: [Tensor?] = []
    var context: AnyObject? = nil
}

/// Runs one node on a backend: the lowering of an `OpKind` to its `Backend` call.
typealias NodeCall = (any Backend, NodeArgs) -> NodeResult

/// One node of a traced graph: an op kind and the buffers it reads and writes.
public struct TracedNode: @unchecked Sendable {
    /// The op and its attributes.
    public var kind: OpKind
    /// Views it reads (nil for an absent optional input).
    public var reads: [TensorRef?]
    /// Views it writes (its outputs, or buffers updated in place).
    public var writes: [TensorRef]
    /// Buffers the backend allocates and returns (fused backward ops).
    public var returned: [TensorRef?]
    /// The node whose context this node reads (a backward of attention or a recurrent layer).
    public var contextFrom: Int?
    /// Where the node was traced.
    public var location: TraceLocation
    /// The backend that runs it.
    let backend: any Backend
    /// The call that runs it.
    let call: NodeCall
    /// For `optimizerStep`: which rule source (index into the graph's sources) and which of its rules.
    var rule: (source: Int, index: Int)?

    /// Every buffer the node touches.
    var touched: [Int] {
        var out: [Int] = []
        for r in reads { if let r { out.append(r.buffer) } }
        for w in writes { out.append(w.buffer) }
        for r in returned { if let r { out.append(r.buffer) } }
        return out
    }
}

/// The Swift source line a node was traced from: the first frame of the call stack outside Nabla's own modules.
public struct TraceLocation: @unchecked Sendable, CustomStringConvertible {
    /// The call stack captured at trace time (symbolicated only when a message needs it).
    let backtrace: Backtrace?

    /// Captures the current call stack (return addresses only). DWARF unwinding (`.precise`): the frame-pointer walk
    /// crashed once in a fresh Debian root on a frame without a frame pointer. The process's image map is captured
    /// once and shared (`images`): captured per call, reading `/proc/self/maps` and each image's headers was nearly
    /// all of a symbolic trace's time (about 0.5 ms per node).
    static func here() -> TraceLocation {
        TraceLocation(backtrace: try? Backtrace.capture(algorithm: .precise, limit: 48, images: images))
    }

    /// The images mapped when the first location was captured. Libraries loaded later (a GPU driver opened with
    /// `dlopen`) are missing from it, so frames inside them are not symbolicated; the frames a location looks for,
    /// the caller's Swift code, belong to the executable and the libraries it was linked with.
    nonisolated(unsafe) private static let images: ImageMap = ImageMap.capture()

    /// `File.swift:42`, or `?` when no frame outside Nabla carries a line.
    public var description: String {
        guard let bt = backtrace, let s = bt.symbolicated() else { return "?" }
        for f in s.frames {
            guard let sym = f.symbol, let loc = sym.sourceLocation, loc.line > 0 else { continue }
            if Self.isFramework(sym.rawName) || loc.path.hasPrefix("/swift/") || loc.path.contains("/swift/stdlib/") { continue }
            return "\((loc.path as NSString).lastPathComponent):\(loc.line)"
        }
        return "?"
    }

    /// Nabla's own modules, whose frames are skipped.
    private static let frameworkModules: Set<String> = [
        "Nabla", "NablaNN", "NablaOptim", "NablaData", "NablaKeras", "NablaBoard", "NablaEstimator", "NablaCLI",
        "NablaDistributed", "NablaONNX", "NablaServe",
    ]

    /// Whether a mangled Swift symbol (`$s5Nabla...`) belongs to one of Nabla's modules.
    private static func isFramework(_ raw: String) -> Bool {
        guard raw.hasPrefix("$s") else { return !raw.hasPrefix("$") && !raw.isEmpty && raw != "main" ? true : false }
        var digits = ""
        var rest = raw.dropFirst(2)
        while let c = rest.first, c.isNumber { digits.append(c); rest = rest.dropFirst() }
        guard let n = Int(digits), n <= rest.count else { return false }
        return frameworkModules.contains(String(rest.prefix(n)))
    }
}
