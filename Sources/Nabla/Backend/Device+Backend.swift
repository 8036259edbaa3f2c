// Which backend owns each device: the one place that maps a `Device` to its `Backend`.

extension Device {
    /// The backend that owns storages on this device.
    ///
    /// Stops with a clear message when the device is not available.
    public var backend: any Backend {
        switch self {
        case .cpu: return CPUBackend.shared
        case .reference: return ReferenceBackend.shared
        case .cuda(let n):
            nablaFail("to(.cuda(\(n))): no CUDA device is available (this build has no CUDA backend); use .cpu")
        }
    }
}
