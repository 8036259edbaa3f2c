#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The autograd flags of one thread: grad mode, inference mode and the forward-mode level (PyTorch keeps the same
/// three per thread). Zero-initialised means grad mode on, no inference, no forward level.
struct AutogradFlags {
    var gradDisabled: Int32 = 0
    var inference: Int32 = 0
    var forwardLevel: Int32 = 0
    /// The `Tracer` recording this thread's backend calls (`compile`), unretained; nil outside a trace.
    var tracer: UnsafeMutableRawPointer? = nil
    /// The `GraphRunner` running a compiled graph on this thread, unretained (named in failure messages).
    var compiledRunner: UnsafeMutableRawPointer? = nil
    /// Autograd nodes this thread has made (`autogradNodesCreated()`).
    var nodesCreated: Int = 0
}

/// Per-thread `AutogradFlags`, held in POSIX thread-specific storage (allocated on a thread's first use, freed when
/// the thread exits). One pointer load on the op path.
enum AutogradState {
    /// The thread-specific key, made once (a global `let`: Swift initialises it exactly once, thread-safely).
    private static let key: pthread_key_t = makeKey()

    private static func makeKey() -> pthread_key_t {
        var k = pthread_key_t()
        let rc = pthread_key_create(&k) { $0?.deallocate() }
        if rc != 0 { fatalError("autograd: pthread_key_create failed (\(rc))") }
        return k
    }

    /// This thread's flags.
    @inline(__always) static var flags: UnsafeMutablePointer<AutogradFlags> {
        if let p = pthread_getspecific(key) { return p.assumingMemoryBound(to: AutogradFlags.self) }
        return makeFlags()
    }

    @inline(never) private static func makeFlags() -> UnsafeMutablePointer<AutogradFlags> {
        let p = UnsafeMutablePointer<AutogradFlags>.allocate(capacity: 1)
        p.initialize(to: AutogradFlags())
        pthread_setspecific(key, p)
        return p
    }

    /// Whether grad mode is on for this thread.
    @inline(__always) static var gradEnabled: Bool { flags.pointee.gradDisabled == 0 }
    /// This thread's forward-mode level (0: no forward-mode AD active).
    @inline(__always) static var forwardLevel: Int32 { flags.pointee.forwardLevel }
}

/// Sets grad mode for this thread, returning the previous setting.
@inline(__always) func swapGradEnabled(_ enabled: Bool) -> Bool {
    let f = AutogradState.flags, previous = f.pointee.gradDisabled == 0
    f.pointee.gradDisabled = enabled ? 0 : 1
    return previous
}

/// Whether operations on this thread are recorded for autograd (`torch.is_grad_enabled()`).
public var isGradEnabled: Bool {
    get { AutogradState.gradEnabled }
    set { _ = swapGradEnabled(newValue) }
}

/// Runs `body` with autograd recording off on this thread (`with torch.no_grad():`).
///
/// ```swift
/// noGrad { w.sub_(w.grad! * lr) }
/// ```
@discardableResult
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = swapGradEnabled(false)
    defer { _ = swapGradEnabled(previous) }
    return try body()
}

/// Runs `body` with autograd recording on, even inside `noGrad` (`with torch.enable_grad():`).
@discardableResult
public func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = swapGradEnabled(true)
    defer { _ = swapGradEnabled(previous) }
    return try body()
}

/// Runs `body` with recording off and marks the thread as in inference (`torch.inference_mode()`).
@discardableResult
public func inferenceMode<R>(_ body: () throws -> R) rethrows -> R {
    let f = AutogradState.flags, saved = f.pointee
    f.pointee.gradDisabled = 1; f.pointee.inference = 1
    defer { let f = AutogradState.flags; f.pointee.gradDisabled = saved.gradDisabled; f.pointee.inference = saved.inference }
    return try body()
}

/// Runs `body` with recording set to `enabled` (`torch.set_grad_enabled(mode)` as a scope).
@discardableResult
public func withGradEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = swapGradEnabled(enabled)
    defer { _ = swapGradEnabled(previous) }
    return try body()
}
