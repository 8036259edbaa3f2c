import Testing
import NablaOptim
import NablaTestSupport

@Suite struct OptimizerTests {
    @Test(.seeded(3)) func adamAndSGDReduceALoss() {
        for make in [{ (p: [Tensor]) -> Optimizer in Adam(p, lr: 0.05) }, { SGD($0, lr: 0.1, momentum: 0.9) }] {
            let model = Linear(2, 1)
            let opt = make(model.parameters())
            let x = Tensor.randn([64, 2]), y = x.sum(dim: 1, keepDim: true) * 2 + 1
            var first = 0.0, last = 0.0
            for i in 0..<100 {
                let loss = mseLoss(model(x), y)
                opt.zeroGrad(); loss.backward(); opt.step()
                if i == 0 { first = loss.item() }
                last = loss.item()
            }
            #expect(last < first * 0.05)
        }
    }
}
