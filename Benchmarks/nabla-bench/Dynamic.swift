// W3-dynamic and W4-dynamic: what a new batch size costs a compiled training step (`compile`'s dynamic shapes).
// The W3 MLP and W4 CNN training steps (Adam 1e-3) on random data: batch 128 warms up and traces, batch 96 traces
// a second time and the two traces unify into a template; batches 64, 32 and 7 are then specialised from it. The
// result gives each trace's and each specialisation's seconds (trace = an eager step recorded + passes + memory
// plan; specialisation = sizes evaluated + passes + memory plan, no step run).

import Foundation
import Nabla
import NablaNN
import NablaOptim

/// Times the traces and specialisations of one model's compiled training step; `shape` is one sample's shape.
func runDynamic(_ workload: String, model: Sequential, sample shape: [Int]) -> [String: Any] {
    manualSeed(benchSeed, engine: benchEngine)
    let opt = Adam(model.parameters(), lr: 1e-3)
    let body = crossEntropyStep(model, opt)
    let step = compile(name: workload, body)
    let gen = Generator(seed: benchSeed, engine: benchEngine)
    var stepSeconds: [String: Double] = [:]
    for n in [128, 128, 96, 64, 32, 7] {
        let x = Tensor.randn([n] + shape, generator: gen), y = Tensor.randint(10, [n], generator: gen)
        let t0 = now()
        _ = step(x, y).item()
        stepSeconds["\(n)"] = now() - t0   // the last call at each size: a trace or a specialisation and one run
    }
    FileHandle.standardError.write(Data("# \(workload)-dynamic \(step.explain())\n".utf8))
    return ["workload": workload, "impl": "nabla-compiled-dynamic",
            "desc": "compiled training step, batch 128 then 96 traced, 64/32/7 specialised from the template",
            "trace_seconds": step.compileSeconds, "specialise_seconds": step.specialiseSeconds,
            "traces": step.traceCount, "first_call_seconds_by_batch": stepSeconds]
}

/// W3-dynamic: the W3 MLP's step.
func runW3Dynamic() -> [String: Any] {
    runDynamic("W3", model: Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10)), sample: [784])
}

/// W4-dynamic: the W4 CNN's step.
func runW4Dynamic() -> [String: Any] { runDynamic("W4", model: makeW4CNN(), sample: [1, 28, 28]) }

/// One training step of a classifier, as W3 and W4 define it: cross-entropy of `model(x)` against `y`, gradients
/// zeroed, backward, one `optimizer` update; returns the loss. Eager as it is, or the body of a compiled step.
func crossEntropyStep(_ model: Sequential, _ optimizer: Optimizer) -> (Tensor, Tensor) -> Tensor {
    { (xb: Tensor, yb: Tensor) -> Tensor in
        let loss = crossEntropy(model(xb), yb)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        return loss
    }
}
