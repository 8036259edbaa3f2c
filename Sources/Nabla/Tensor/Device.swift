/// Where a tensor's storage lives, as `torch.device`.
public enum Device: Hashable, Sendable, CustomStringConvertible {
    /// Host memory, computed by the CPU backend (OpenBLAS + SIMD kernels).
    case cpu
    /// The CUDA GPU with this ordinal.
    case cuda(Int)

    /// PyTorch's spelling: `cpu`, `cuda:0`.
    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let n): return "cuda:\(n)"
        }
    }

    /// The backend that owns storages on this device.
    ///
    /// Stops with a clear message when the device is not available.
    public var backend: any Backend {
        switch self {
        case .cpu: return CPUBackend.shared
        case .cuda(let n):
            guard let b = BackendRegistry.cuda(n) else {
                nablaFail("to(.cuda(\(n))): no CUDA device is available (no CUDA backend is loaded in this build or no GPU was found); use .cpu")
            }
            return b
        }
    }
}
