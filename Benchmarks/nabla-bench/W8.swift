import Foundation
import Nabla

/// W8's network: 2 → 16 → 16 → 1 with ReLU, every weight a 0-d tensor.
struct ScalarMLP {
    var w1: [[Tensor]], b1: [Tensor], w2: [[Tensor]], b2: [Tensor], w3: [Tensor], b3: Tensor
}

/// `bench_torch.py`'s `scalar_mlp_loss`: MSE of the scalar MLP over the points, one 0-d tensor per scalar.
func scalarMLPLoss(_ p: ScalarMLP, xs: [[Tensor]], ys: [Tensor]) -> Tensor {
    var total: Tensor? = nil
    for (x, y) in zip(xs, ys) {
        var h1: [Tensor] = []
        for j in 0..<16 {
            var s = p.b1[j]
            for i in 0..<2 { s = s + p.w1[j][i] * x[i] }
            h1.append(relu(s))
        }
        var h2: [Tensor] = []
        for k in 0..<16 {
            var s = p.b2[k]
            for j in 0..<16 { s = s + p.w2[k][j] * h1[j] }
            h2.append(relu(s))
        }
        var o = p.b3
        for k in 0..<16 { o = o + p.w3[k] * h2[k] }
        let d = o - y
        let sq = d * d
        total = total.map { $0 + sq } ?? sq
    }
    return total! * Tensor.scalar(1.0 / Double(xs.count))
}

/// W8: forward + backward of the scalar MLP on 8 points; ms per pass and µs per scalar op
/// (n_ops = 8 × 643), median of 5 after 2 warm-up passes (`NABLA_W8_PASSES` passes in all, for a profiler).
func runW8() -> [String: Any] {
    let gen = Generator(seed: 0)
    func u() -> Double { gen.nextUnit() * 2 - 1 }  // uniform(-1, 1)
    let xsData = (0..<8).map { _ in [u(), u()] }
    let ysData = xsData.map { ($0[0] * $0[1]).sign == .minus ? -1.0 : 1.0 }
    let w1 = (0..<16).map { _ in [u(), u()] }, b1 = (0..<16).map { _ in u() }
    let w2 = (0..<16).map { _ in (0..<16).map { _ in u() } }, b2 = (0..<16).map { _ in u() }
    let w3 = (0..<16).map { _ in u() }, b3 = u()
    let nOps = 8 * 643

    func param(_ v: Double) -> Tensor { Tensor.scalar(v).requiresGrad_() }
    var times: [Double] = [], fwdTimes: [Double] = []
    var lossValue = 0.0
    // NABLA_W8_PASSES lengthens the run for a profiler (default 7: 2 warm-up passes and 5 timed).
    let env = ProcessInfo.processInfo.environment
    let passes = max(env["NABLA_W8_PASSES"].flatMap(Int.init) ?? 7, 3)
    for rep in 0..<passes {
        let p = ScalarMLP(w1: w1.map { $0.map(param) }, b1: b1.map(param), w2: w2.map { $0.map(param) },
                          b2: b2.map(param), w3: w3.map(param), b3: param(b3))
        let xs = xsData.map { $0.map { Tensor.scalar($0) } }
        let ys = ysData.map { Tensor.scalar($0) }
        let t0 = now()
        let loss = scalarMLPLoss(p, xs: xs, ys: ys)
        let t1 = now()
        loss.backward()
        let dt = now() - t0
        if rep >= 2 { times.append(dt); fwdTimes.append(t1 - t0) }
        lossValue = loss.item()
        check(p.w2[0][0].grad != nil, "W8: no gradient reached the weights")
    }
    return [
        "workload": "W8", "impl": "nabla",
        "desc": "scalar MLP 2-16-16-1 ReLU on 8 points, MSE; graph of ~5144 scalar ops, fwd+bwd; each scalar a 0-d tensor",
        "ms_fwd_bwd_median": median(times) * 1e3, "us_per_scalar_op": median(times) / Double(nOps) * 1e6,
        "ms_fwd_median": median(fwdTimes) * 1e3,
        "loss": lossValue,
    ]
}
