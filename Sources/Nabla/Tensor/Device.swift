/// Where a tensor's storage lives, as `torch.device`.
public enum Device: Hashable, Sendable, CustomStringConvertible {
    /// Host memory, computed by the CPU backend (OpenBLAS + SIMD kernels).
    case cpu
    /// The CUDA GPU with this ordinal.
    case cuda(Int)
    /// Host memory computed by `ReferenceBackend`: plain loops and composite ops only, for testing the `Backend` seam.
    case reference

    /// PyTorch's spelling: `cpu`, `cuda:0`.
    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let n): return "cuda:\(n)"
        case .reference: return "reference"
        }
    }

    /// Whether a CUDA device is usable (`torch.cuda.is_available()`); this build has no CUDA backend yet.
    public static var cudaAvailable: Bool { false }
}

extension Device {
    /// The device that creation functions use when none is given (`torch.get_default_device()`): `.cpu` unless a
    /// `withDefaultDevice` scope says otherwise. Task-local, so concurrent tasks (and tests) may differ.
    @TaskLocal public static var current: Device = .cpu
}

/// Runs `body` with `device` as the default device of creation functions (`torch.set_default_device` as a scope).
///
/// ```swift
/// let y = withDefaultDevice(.reference) { softmax(Tensor.randn([2, 3]), dim: -1) }   // computed on .reference
/// ```
@discardableResult
public func withDefaultDevice<R>(_ device: Device, _ body: () throws -> R) rethrows -> R {
    try Device.$current.withValue(device, operation: body)
}

/// The async form of `withDefaultDevice(_:_:)`.
@discardableResult
public func withDefaultDevice<R>(_ device: Device, _ body: () async throws -> R) async rethrows -> R {
    try await Device.$current.withValue(device, operation: body)
}
