import Foundation
import Nabla

/// W1: float32 `C = A @ B` for square `n`, GFLOP/s = 2n³ / median time (calibrated loop ≥ 0.25 s, median of 7).
func runW1(sizes: [Int] = [256, 1024, 2048]) -> [[String: Any]] {
    var out: [[String: Any]] = []
    let gen = Generator(seed: 0)
    for n in sizes {
        let a = Tensor.randn([n, n], generator: gen)
        let b = Tensor.randn([n, n], generator: gen)
        var c = a
        let samples = timeLoop { c = matmul(a, b) }
        // Accuracy against a float64 product, as bench_torch.py does for n <= 1024.
        var err: Any = NSNull()
        if n <= 1024 {
            let ref = matmul(a.to(.float64), b.to(.float64)).toDoubleArray()
            let got = c.toDoubleArray()
            var maxDiff = 0.0, maxRef = 0.0
            for i in 0..<ref.count {
                maxDiff = max(maxDiff, abs(got[i] - ref[i]))
                maxRef = max(maxRef, abs(ref[i]))
            }
            err = maxDiff / maxRef
        }
        let flop = 2.0 * Double(n * n * n)
        let med = median(samples)
        out.append([
            "workload": "W1", "impl": "nabla", "n": n,
            "median_s": med,
            "gflops": flop / med / 1e9,
            "gflops_best": flop / samples.min()! / 1e9,
            "gflops_worst": flop / samples.max()! / 1e9,
            "repeats": samples.count,
            "max_rel_err_vs_f64": err,
        ])
    }
    return out
}
