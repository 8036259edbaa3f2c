import CNablaKernels

/// The autograd flags of one thread: grad mode, inference mode and the forward-mode level (PyTorch keeps the same
/// three per thread), the `Tracer` recording this thread's backend calls (`compile`, unretained, nil outside a
/// trace), the `GraphRunner` running a compiled graph (named in failure messages) and the count of autograd nodes
/// made (`autogradNodesCreated()`). Zero-initialised means grad mode on, no inference, no forward level.
/// Declared in C (`nabla_thread_state.h`) so that it can be a C thread-local.
typealias AutogradFlags = NablaAutogradFlags

/// Per-thread `AutogradFlags`, a C `_Thread_local`: once linked into an executable, reading it is one
/// thread-pointer-relative address (POSIX thread-specific storage cost a `pthread_getspecific` call and a
/// `swift_once` check of its key, a dozen times per scalar op).
enum AutogradState {
    /// This thread's flags.
    @inline(__always) static var flags: UnsafeMutablePointer<AutogradFlags> { nabla_autograd_flags_ptr() }

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
