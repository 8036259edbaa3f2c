#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// C's `pow` for the CPU kernels: IEEE semantics as PyTorch's (`(-2)^3 = -8`, `x^0 = 1` even for 0 and NaN),
/// unlike RealModule's `pow`, which returns NaN for every negative base and for `0^0`.
protocol LibmPow {
    /// `x` raised to `y` with C `pow` semantics.
    static func libmPow(_ x: Self, _ y: Self) -> Self
}

extension Float: LibmPow {
    @inline(__always) static func libmPow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

extension Double: LibmPow {
    @inline(__always) static func libmPow(_ x: Double, _ y: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.pow(x, y)
        #else
        return Darwin.pow(x, y)
        #endif
    }
}
