import Testing
import Nabla
import NablaNN
import NablaOptim
import NablaTestSupport

/// The memory of W4's compiled training step (the CNN at its benchmark batch of 128), as properties of its plan:
/// nothing large is allocated outside the plan, and the plan holds no ReLU output across the backward, so the
/// intermediates alive at once are bounded by the first convolution's output A (the step's largest tensor). The
/// convolution, its ReLU and the pool run as one node that writes only the pool's output (A/4) and its int64 indices
/// (A/2); at that pool's backward (fused with the ReLU's), the gradient it writes (A) + the indices + the pooled
/// values and their gradient (A/4 each) are alive: 2A. Eager holds both ReLU outputs (A and A/2) across its backward.
@Suite(.serialized) struct CompiledStepMemoryTests {
    @Test(.seeded(5)) func theW4StepsPlanIsBoundedByItsLargestActivations() throws {
        let model = Sequential(Conv2d(1, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                               Conv2d(32, 64, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                               Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
        let opt = Adam(model.parameters(), lr: 1e-3)
        let step = compile(name: "W4") { (x: Tensor, y: Tensor) -> Tensor in
            opt.zeroGrad()
            let loss = crossEntropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        }
        let x = Tensor.randn([128, 1, 28, 28]), y = Tensor.randint(0, 10, [128])
        for _ in 0..<2 { _ = step(x, y) }
        let (outputs, memory) = step.profileMemory([x, y])
        #expect(outputs.count == 1)
        let g = try #require(step.graph)
        let a = 128 * 32 * 28 * 28 * 4
        let parameterBytes = model.parameters().reduce(0) { $0 + $1.count * 4 }
        // Outside the plan: the convolutions' weight and bias gradients only (their input gradient is planned).
        #expect(g.plan.returnedBytes > 0 && g.plan.returnedBytes <= parameterBytes, "\(g)")
        // Alive at once: 2A, plus the gradients and other buffers that live for the whole run (each ≤ parameters).
        #expect(g.plan.liveBytesBound <= a * 2 + 2 * parameterBytes, "\(g)")
        // The arena's placement comes within 5 % of that floor (the arena was 3.25 A before the ReLU outputs died
        // early and one arena served every dtype).
        #expect(g.plan.peakBytes * 100 <= g.plan.liveBytesBound * 105, "\(g)")
        #expect(g.passLog.contains { $0.contains("2 masked before the pool's backward") }, "\(g.passLog)")
        #expect(g.passLog.contains { $0.contains("planned convolution input gradients: 1") }, "\(g.passLog)")
        #expect(g.passLog.contains { $0.contains("convolution blocks: 2 conv2d + relu + maxPool2d fused") }, "\(g.passLog)")
        let m = try #require(memory, "\(step.explain())")
        #expect(m.plannedBytes == g.plan.peakBytes)
        #expect("\(m)".hasPrefix("planned "), "\(m)")
    }
}
