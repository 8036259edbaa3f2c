// W7: TransformerEncoderLayer(256, 4 heads, FFN 1024, dropout 0, batch-first, post-norm, ReLU) on randn(32, 128, 256);
// loss = out.pow(2).mean(); forward + backward + Adam step (bench_torch.py's run_w7).
import Foundation
import NablaOptim

/// Median ms per training step over 20 steps after 3 warm-up steps; `compiled`: the step runs through `compile`
/// ("W7-compiled", impl `nabla-compiled`; its warm-up steps include the eager call and the trace).
func runW7(compiled: Bool = false) -> [String: Any] {
    manualSeed(0)
    let layer = TransformerEncoderLayer(dModel: 256, nhead: 4, dimFeedforward: 1024, dropout: 0, batchFirst: true)
    layer.train()
    let opt = Adam(layer.parameters(), lr: 1e-3)
    // NABLA_W7_BATCH and NABLA_W7_STEPS shrink the run for instruction counts under valgrind (default 32 and 23).
    let env = ProcessInfo.processInfo.environment
    let batch = env["NABLA_W7_BATCH"].flatMap(Int.init) ?? 32, steps = max(env["NABLA_W7_STEPS"].flatMap(Int.init) ?? 23, 4)
    let x = Tensor.randn([batch, 128, 256])
    var times: [Double] = []
    let body = { (x: Tensor) -> Tensor in
        let out = layer(x)
        let loss = (out * out).mean()
        opt.zeroGrad()
        loss.backward()
        opt.step()
        return loss
    }
    let step = compile(name: "W7", body)
    for it in 0..<steps {
        let t0 = now()
        _ = compiled ? step(x) : body(x)
        let dt = now() - t0
        if it >= 3 { times.append(dt * 1e3) }
    }
    let d = 256.0, ff = 1024.0, t = 128.0, b = Double(batch)
    let fwdFlop = b * t * (4 * d * d * 2 + 2 * d * ff * 2 + 2 * t * d * 2)
    let med = median(times)
    return [
        "workload": "W7", "impl": compiled ? "nabla-compiled" : "nabla",
        "desc": "TransformerEncoderLayer(256, 4 heads, ff 1024, dropout 0, batch_first, post-norm, ReLU) on randn(32,128,256); loss = out.pow(2).mean(); fwd+bwd+Adam step; median of 20 after 3 warm-up",
        "ms_per_step_median": med, "ms_per_step_min": times.min() ?? .nan, "ms_per_step_max": times.max() ?? .nan,
        "approx_gflops_3x_fwd": 3 * fwdFlop / (med / 1e3) / 1e9,
    ]
}
