import Foundation
import Nabla

/// W2a: 100 000 × `y = x + 1.0` on a 1-element float32 tensor without autograd; µs per op
/// (6 repetitions, the first a warm-up), also under `noGrad`.
func runW2a() -> [String: Any] {
    let iters = 100_000
    let x = Tensor.zeros([1])
    var y = x
    func loop() -> Double {
        let t0 = now()
        for _ in 0..<iters { y = x + 1.0 }
        return (now() - t0) / Double(iters) * 1e6
    }
    var plain: [Double] = [], underNoGrad: [Double] = []
    for rep in 0..<6 {
        let dt = loop()
        if rep > 0 { plain.append(dt) }
    }
    for rep in 0..<6 {
        let dt = noGrad { loop() }
        if rep > 0 { underNoGrad.append(dt) }
    }
    check(y.item() == 1, "W2a: expected y = 1, got \(y.item())")
    return [
        "workload": "W2a", "impl": "nabla",
        "desc": "y = x + 1.0, x = zeros([1]) (requiresGrad false), 100000 iters, us/op",
        "us_per_op": median(plain), "us_per_op_min": plain.min()!, "us_per_op_max": plain.max()!,
        "us_per_op_under_no_grad": median(underNoGrad),
        "repeats": plain.count,
    ]
}

/// W2b: a chain of 1000 ops (500 × `x = x * 1.0001; x = x + 0.0001`) on `ones([1], requiresGrad: true)`,
/// then `backward()`; µs per op forward + backward (23 repetitions, the first 3 warm-up).
func runW2b() -> [String: Any] {
    let nOps = 1000
    var fwd: [Double] = [], bwd: [Double] = [], tot: [Double] = []
    var grad = 0.0
    for rep in 0..<23 {
        let x0 = Tensor.ones([1], requiresGrad: true)
        let t0 = now()
        var x = x0
        for _ in 0..<(nOps / 2) {
            x = x * 1.0001
            x = x + 0.0001
        }
        let t1 = now()
        x.backward()
        let t2 = now()
        if rep >= 3 {
            fwd.append((t1 - t0) / Double(nOps) * 1e6)
            bwd.append((t2 - t1) / Double(nOps) * 1e6)
            tot.append((t2 - t0) / Double(nOps) * 1e6)
        }
        grad = x0.grad?.item() ?? .nan
    }
    let expected = pow(1.0001, Double(nOps / 2))
    check(abs(grad - expected) < 1e-3, "W2b: gradient \(grad), expected \(expected)")
    return [
        "workload": "W2b", "impl": "nabla",
        "desc": "1000-op chain (500x mul 1.0001 then add 0.0001) on ones([1], requiresGrad) + backward; us per op",
        "us_per_op_fwd_bwd": median(tot), "us_per_op_fwd_bwd_min": tot.min()!, "us_per_op_fwd_bwd_max": tot.max()!,
        "us_per_op_fwd": median(fwd), "us_per_op_bwd": median(bwd), "repeats": tot.count,
        "grad": grad,
    ]
}
