import Testing
import NablaOptim
import NablaTestSupport

/// `LBFGS` against `torch.optim.LBFGS` (Scripts/fixtures/lbfgs.py): float64 iterates after every step, the
/// losses the steps return and the evaluation counts, with and without the strong-Wolfe line search.
@Suite struct LBFGSTests {
    static let fixture = loadFixture("lbfgs")

    /// The optimizer, step count and loss of each case, as in the fixture script.
    static func setUp(_ name: String, _ c: FixtureCase) -> (params: [Tensor], steps: Int, opt: LBFGS, loss: ([Tensor]) -> Tensor) {
        let isLsq = name.hasPrefix("lsq")
        let params = (0..<(isLsq ? 2 : 1)).map { c.inputs[$0].tensor.requiresGrad_() }
        let loss: ([Tensor]) -> Tensor
        if isLsq {
            let a = c.inputs[2].tensor, b = c.inputs[3].tensor
            loss = { p in (matmul(a, p[0]) + p[1] - b).pow(2).sum() }
        } else {
            loss = { p in
                let x0 = p[0][0], x1 = p[0][1]
                return (1 - x0).pow(2) + (x1 - x0.pow(2)).pow(2) * 100
            }
        }
        let opt: LBFGS, steps: Int
        switch name {
        case "lsq_fixed": opt = LBFGS(params, lr: 1, maxIter: 4, historySize: 3); steps = 5
        case "lsq_wolfe": opt = LBFGS(params, lr: 1, maxIter: 4, historySize: 3, lineSearchFn: .strongWolfe); steps = 3
        case "rosen_fixed": opt = LBFGS(params, lr: 0.05, maxIter: 5, historySize: 4); steps = 6
        case "rosen_wolfe": opt = LBFGS(params, lr: 1, maxIter: 5, historySize: 4, lineSearchFn: .strongWolfe); steps = 6
        case "rosen_wolfe_long": opt = LBFGS(params, lr: 1, maxIter: 60, historySize: 10, lineSearchFn: .strongWolfe); steps = 1
        default: fatalError("unknown LBFGS case \(name)")
        }
        return (params, steps, opt, loss)
    }

    @Test(arguments: fixture.cases.map(\.name)) func iteratesMatchTorch(_ name: String) {
        let c = Self.fixture[name]
        let (params, steps, opt, loss) = Self.setUp(name, c)
        var iterates: [Tensor] = [], losses: [Double] = []
        for _ in 0..<steps {
            let l = opt.step {
                opt.zeroGrad()
                let l = loss(params)
                l.backward()
                return l
            }
            losses.append(l.item())
            iterates.append(cat(params.map { $0.detached().reshape([-1]) }))
        }
        let r = allClose(stack(iterates), c.outputs[0].tensor, rtol: 1e-10, atol: 1e-10)
        #expect(r.ok, "\(name) iterates: \(r.failure)")
        let rl = allClose(Tensor(shape: [losses.count], data: losses, dtype: .float64), c.outputs[1].tensor, rtol: 1e-10, atol: 1e-10)
        #expect(rl.ok, "\(name) losses: \(rl.failure)")
        let counts = c.outputs[2].tensor.toDoubleArray()
        #expect(Double(opt.funcEvals) == counts[0] && Double(opt.nIter) == counts[1],
                "\(name): func_evals \(opt.funcEvals), n_iter \(opt.nIter); PyTorch \(counts)")
    }

    @Test func cubicInterpolationMinimisesACubic() {
        // f(x) = x³ - 3x has its local minimum at 1: f(0) = 0, f'(0) = -3, f(2) = 2, f'(2) = 9.
        #expect(Swift.abs(LBFGS.cubicInterpolate(0, 0, -3, 2, 2, 9) - 1) < 1e-12)
        // Clamped to the bounds.
        #expect(LBFGS.cubicInterpolate(0, 0, -3, 2, 2, 9, bounds: (1.5, 3)) == 1.5)
    }

    @Test func resumesFromStateDict() throws {
        let c = Self.fixture["rosen_wolfe"]
        func run(_ split: Bool) throws -> Tensor {
            var (params, _, opt, loss) = Self.setUp("rosen_wolfe", c)
            let closure = { () -> Tensor in opt.zeroGrad(); let l = loss(params); l.backward(); return l }
            opt.step(closure)
            if split {
                let saved = opt.stateDict()
                let fresh = params.map { $0.detached().clone().requiresGrad_() }
                params = fresh
                opt = LBFGS(fresh, lr: 1, maxIter: 5, historySize: 4, lineSearchFn: .strongWolfe)
                try opt.loadStateDict(saved)
            }
            opt.step { opt.zeroGrad(); let l = loss(params); l.backward(); return l }
            return params[0].detached()
        }
        let r = allClose(try run(true), try run(false), rtol: 0, atol: 0)
        #expect(r.ok, "\(r.failure)")
    }
}

@Suite struct LBFGSErrorTests {
    @Test func stepWithoutAClosure() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            LBFGS([Tensor.zeros([2]).requiresGrad_()]).step()
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("LBFGS.step") && text.contains("closure"), "stderr: \(text)")
    }
}
