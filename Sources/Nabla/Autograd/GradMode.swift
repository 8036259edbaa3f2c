import CNablaKernels

/// Whether operations on this thread are recorded for autograd (`torch.is_grad_enabled()`).
public var isGradEnabled: Bool {
    get { nabla_grad_enabled() != 0 }
    set { nabla_set_grad_enabled(newValue ? 1 : 0) }
}

/// Runs `body` with autograd recording off on this thread (`with torch.no_grad():`).
///
/// ```swift
/// noGrad { w.sub_(w.grad! * lr) }
/// ```
@discardableResult
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = nabla_grad_enabled()
    nabla_set_grad_enabled(0)
    defer { nabla_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` with autograd recording on, even inside `noGrad` (`with torch.enable_grad():`).
@discardableResult
public func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = nabla_grad_enabled()
    nabla_set_grad_enabled(1)
    defer { nabla_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` with recording off and marks the thread as in inference (`torch.inference_mode()`).
@discardableResult
public func inferenceMode<R>(_ body: () throws -> R) rethrows -> R {
    let previous = nabla_grad_enabled(), inf = nabla_inference_mode()
    nabla_set_grad_enabled(0); nabla_set_inference_mode(1)
    defer { nabla_set_grad_enabled(previous); nabla_set_inference_mode(inf) }
    return try body()
}

/// Runs `body` with recording set to `enabled` (`torch.set_grad_enabled(mode)` as a scope).
@discardableResult
public func withGradEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = nabla_grad_enabled()
    nabla_set_grad_enabled(enabled ? 1 : 0)
    defer { nabla_set_grad_enabled(previous) }
    return try body()
}
