#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic wall-clock time in seconds (`time.perf_counter()`).
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The median of `xs` (mean of the two middle values for an even count, as Python's `statistics.median`).
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    let n = s.count
    guard n > 0 else { return .nan }
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/// Seconds per call of `fn`, one sample per repeat: `bench_torch.py`'s `time_loop`.
///
/// Runs `warmup` calls, doubles an inner loop count until one loop takes at least `minTime`,
/// then times `repeats` loops of that many calls.
func timeLoop(minTime: Double = 0.25, repeats: Int = 7, warmup: Int = 2, _ fn: () -> Void) -> [Double] {
    for _ in 0..<warmup { fn() }
    var n = 1
    while true {
        let t0 = now()
        for _ in 0..<n { fn() }
        if now() - t0 >= minTime { break }
        n *= 2
    }
    var samples: [Double] = []
    for _ in 0..<repeats {
        let t0 = now()
        for _ in 0..<n { fn() }
        samples.append((now() - t0) / Double(n))
    }
    return samples
}
