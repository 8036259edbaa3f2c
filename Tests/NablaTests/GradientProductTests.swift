import Testing
import Nabla
import NablaTestSupport

/// A multiplication's gradient terms added straight into the gradient the engine has gathered for an input
/// (`Node.gradientProduct` and the backends' `mulAccumulate`): the same gradients, to the bit, as the path that makes
/// each product as a tensor, and the fast path really taken where it applies.
@Suite struct GradientProductTests {
    /// A scalar MLP in the style of W8 (every scalar a 0-d tensor): each weight and each hidden unit is used by many
    /// products, so most of their gradient terms are added into a gathered gradient.
    static func scalarNet(_ w: [[Tensor]], _ v: [Tensor], _ xs: [[Tensor]]) -> Tensor {
        var total: Tensor? = nil
        for x in xs {
            var h: [Tensor] = []
            for row in w {
                var s = row[0] * x[0]
                for i in 1..<x.count { s = s + row[i] * x[i] }
                h.append(relu(s))
            }
            var o = v[0] * h[0]
            for k in 1..<h.count { o = o + v[k] * h[k] }
            total = total.map { $0 + o * o } ?? o * o
        }
        return total!
    }

    static func parameters(_ dtype: DType) -> (w: [[Tensor]], v: [Tensor], xs: [[Tensor]]) {
        let gen = Generator(seed: 3)
        func u() -> Double { gen.nextUnit() * 2 - 1 }
        let w = (0..<6).map { _ in (0..<3).map { _ in Tensor.scalar(u(), dtype: dtype).requiresGrad_() } }
        let v = (0..<6).map { _ in Tensor.scalar(u(), dtype: dtype).requiresGrad_() }
        let xs = (0..<5).map { _ in (0..<3).map { _ in Tensor.scalar(u(), dtype: dtype) } }
        return (w, v, xs)
    }

    /// The fused terms give the gradients of the unfused path bit for bit: `createGraph` keeps grad mode on during
    /// the pass, which turns the fusion off.
    @Test(arguments: [DType.float32, .float64])
    func sameGradientsAsTheProductsAsTensors(dtype: DType) {
        let (w, v, xs) = Self.parameters(dtype)
        let before = gradientProductsFused()
        Self.scalarNet(w, v, xs).backward()
        let fused = gradientProductsFused() - before
        let fast = (w.flatMap { $0 } + v).map { $0.grad!.toDoubleArray()[0] }
        // Each of the 24 weights takes one term per point (5 points): all but its first are added into the gathered
        // one (4 × 24 = 96). A hidden unit takes one term per point and `o * o` two terms of a gradient not yet
        // gathered, so none of those are fused.
        #expect(fused == 96, "\(fused) gradient products were fused")

        for p in w.flatMap({ $0 }) + v { p.grad = nil }
        let mid = gradientProductsFused()
        Self.scalarNet(w, v, xs).backward(createGraph: true)
        #expect(gradientProductsFused() == mid, "a createGraph pass must make every product as a tensor")
        let slow = (w.flatMap { $0 } + v).map { $0.grad!.toDoubleArray()[0] }
        #expect(fast == slow)
    }

    /// Both operands the same tensor (`x * x`), a weight broadcast over a batch (no fusion: shapes differ), and a
    /// leaf hook, which sees the gathered sum once.
    @Test func squaresBroadcastsAndLeafHooks() {
        let x = Tensor([0.5, -1.5, 2.0], dtype: .float64, requiresGrad: true)
        var hookCalls = 0
        x.registerHook { g in hookCalls += 1; return nil }
        let y = (x * x + x * x * 3.0 + x * 2.0).sum()
        y.backward()
        #expect(hookCalls == 1)
        #expect(x.grad!.toDoubleArray() == [0.5, -1.5, 2.0].map { 8 * $0 + 2 })

        let w = Tensor([1.0, 2.0, 3.0], dtype: .float64, requiresGrad: true)
        let batch = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype: .float64)
        ((batch * w).sum() + (w * batch).sum() + (w * w).sum()).backward()
        #expect(w.grad!.toDoubleArray() == [12.0, 18.0, 24.0])
    }

    /// `gradients(of:wrt:)` captures the gathered sum at an input that takes fused terms.
    @Test func capturedGradientIncludesFusedTerms() {
        let a = Tensor.scalar(1.5, dtype: .float64).requiresGrad_()
        let b = Tensor.scalar(-2.0, dtype: .float64).requiresGrad_()
        let h = a * 1.0
        let y = h * b + h * b * b + h * 4.0
        let g = gradients(of: [y], wrt: [h, b])
        #expect(g[0]!.item() == -2.0 + 4.0 + 4.0)
        #expect(g[1]!.item() == 1.5 + 2 * 1.5 * -2.0)
        #expect(a.grad == nil)
    }

    /// The kernel on both backends: `out += a * b` for floats (one element, a vector large enough to split over the
    /// kernel threads), integers and strided operands (the composite).
    @Test(arguments: [Device.cpu, .reference])
    func mulAccumulateKernel(device: Device) {
        for (n, dtype) in [(1, DType.float32), (70_001, .float32), (5, .float64), (4, .int64)] {
            let a = Tensor(shape: [n], data: (0..<n).map { Double($0 % 7) - 3 }, dtype: dtype, device: device)
            let b = Tensor(shape: [n], data: (0..<n).map { Double($0 % 5) + 0.5 * (dtype == .int64 ? 0 : 1) }, dtype: dtype, device: device)
            let out = Tensor(shape: [n], data: (0..<n).map { Double($0 % 3) }, dtype: dtype, device: device)
            let expected = noGrad { out + a * b }
            device.backend.mulAccumulate(a, b, out: out)
            #expect(out.toDoubleArray() == expected.toDoubleArray(), "\(dtype) n=\(n) on \(device)")
        }
        let m = Tensor(shape: [3, 2], data: [1.0, 2, 3, 4, 5, 6], device: device)
        let strided = m.t()
        let out = Tensor(shape: [2, 3], data: [1.0, 1, 1, 1, 1, 1], device: device)
        let expected = noGrad { out + strided * strided }
        device.backend.mulAccumulate(strided, strided, out: out)
        #expect(out.toDoubleArray() == expected.toDoubleArray())
    }
}
