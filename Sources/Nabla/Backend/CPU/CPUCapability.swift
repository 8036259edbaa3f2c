import CNablaKernels

/// The instruction set Nabla's own CPU kernels run on in this process, as `torch.backends.cpu.get_cpu_capability()`
/// reports PyTorch's: the best the CPU supports among those this build has.
///
/// ```swift
/// print(CPUCapability.current)   // AVX512 on a Zen 4 EPYC or a recent Xeon
/// ```
///
/// A build made with `swift build -Xcc -DNABLA_NO_AVX512` (or `make test-avx2`) leaves out every AVX-512 path and
/// reports `avx2` on any CPU with AVX2: the code an AVX2-only machine runs, on an AVX-512 one.
public enum CPUCapability: String, Sendable, CustomStringConvertible {
    /// AVX-512 (F, VL, DQ and BW): the 16-row GEMM tiles and the x86-64-v4 kernel clones.
    case avx512 = "AVX512"
    /// AVX2 with FMA: the 6-row GEMM tiles and the x86-64-v3 kernel clones.
    case avx2 = "AVX2"
    /// Neither: the baseline (SSE2) kernels.
    case `default` = "DEFAULT"

    /// The capability this process runs on, found once.
    public static let current: CPUCapability = {
        switch nabla_cpu_capability() {
        case 3: return .avx512
        case 2: return .avx2
        default: return .default
        }
    }()

    /// The name PyTorch uses for it: "AVX512", "AVX2" or "DEFAULT".
    public var description: String { rawValue }
}
