import Testing
import Nabla
import NablaNN
import NablaTestSupport

/// `module.compile()` / `hybridize()`: the forward pass runs as a graph, retraces on train()/eval(), and
/// `traceGraph` gives the graph to print or draw.
@Suite struct ModuleCompileTests {
    func makeModel() -> Sequential {
        Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), ReLU(), MaxPool2d(kernelSize: 2),
                   Flatten(), Dropout(0.5), Linear(4 * 14 * 14, 10))
    }

    @Test(.seeded(3)) func aCompiledModuleMatchesEagerInEvalAndRetracesOnModeChanges() throws {
        let model = makeModel()
        let x = Tensor.randn([2, 1, 28, 28])
        model.eval()
        let expected = noGrad { model(x) }
        let c = model.compile()
        for _ in 0..<3 {
            let r = allClose(noGrad { model(x) }, expected, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(r.failure)")
        }
        #expect(c.graph != nil, "\(c.explain())")
        model.train()
        _ = noGrad { model(x) }
        model.eval()
        _ = noGrad { model(x) }
        #expect(c.explain().contains("2 signature(s)"), "\(c.explain())")
        model.uncompile()
        #expect(model.compiledFunction == nil)
    }

    @Test func hybridizeIsCompileAndTraceGraphShowsTheOps() {
        let model = makeModel()
        model.eval()
        _ = model.hybridize()
        #expect(model.compiledFunction != nil)
        let g = model.traceGraph(input: Tensor.randn([1, 1, 28, 28]))
        let text = "\(g)"
        // An eval graph runs its batch-1 linear layer on the prepared weight (`linear(prepared, bias)`), not matmul.
        #expect(text.contains("conv2d") && text.contains("maxPool2d") && text.contains("linear(prepared, bias)"), "\(text)")
    }
}
