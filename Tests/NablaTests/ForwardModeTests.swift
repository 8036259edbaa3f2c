import Testing
import Nabla
import NablaTestSupport

/// Forward mode (dual tensors, `jvp`) against reverse mode, plus `jacobian` and `hessian`.
@Suite struct ForwardModeTests {
    static let a = Tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 1.1]], dtype: .float64)

    /// A composite of sin, mul, matmul, exp and sum: R^3 -> R^3.
    static func composite(_ x: Tensor) -> Tensor {
        let h = x.sin() * x
        let m = matmul(a, h)
        return (m * 0.3).exp() + m.sum()
    }

    @Test func jvpAgreesWithVJP() {
        let x = Tensor([0.3, -1.2, 0.8], dtype: .float64)
        let t = Tensor([1.0, 0.5, -2.0], dtype: .float64)
        let (y, jt) = jvp({ Self.composite($0[0]) }, primals: [x], tangents: [t])
        #expect(allClose(y, Self.composite(x)).ok)
        // uᵀ(J t) must equal (Jᵀu)ᵀ t for any u.
        let u = Tensor([0.7, -0.4, 1.3], dtype: .float64)
        let (_, vs) = vjp({ Self.composite($0[0]) }, primals: [x], v: u)
        let lhs = (u * jt).sum().item(), rhs = (vs[0] * t).sum().item()
        #expect(abs(lhs - rhs) < 1e-10, "\(lhs) vs \(rhs)")
        // And J t equals the reverse-mode Jacobian times t.
        let j = jacobian(Self.composite, at: x)
        #expect(allClose(jt, matmul(j, t), rtol: 1e-10, atol: 1e-12).ok)
    }

    @Test func jvpOfElementaryOps() {
        let x = Tensor([0.5, 1.0], dtype: .float64)
        let (_, d1) = jvp({ $0[0].exp() }, primals: [x], tangents: [Tensor.onesLike(x)])
        #expect(allClose(d1, x.exp()).ok)
        let (_, d2) = jvp({ $0[0].sin() }, primals: [x], tangents: [Tensor([2.0, 2.0], dtype: .float64)])
        #expect(allClose(d2, x.cos() * 2).ok)
        // Two primals: d(x*y) = y dx + x dy.
        let y = Tensor([3.0, -1.0], dtype: .float64)
        let (p, d3) = jvp({ $0[0] * $0[1] }, primals: [x, y], tangents: [Tensor.onesLike(x), Tensor.zerosLike(y)])
        #expect(p.toDoubleArray() == [1.5, -1.0])
        #expect(d3.toDoubleArray() == [3, -1])
        // A function independent of the tangent direction has a zero tangent.
        let (_, d4) = jvp({ _ in Tensor.ones([2], dtype: .float64) }, primals: [x], tangents: [Tensor.onesLike(x)])
        #expect(d4.toDoubleArray() == [0, 0])
    }

    @Test func jacobianBothModesAgree() {
        let x = Tensor([0.3, -1.2, 0.8], dtype: .float64)
        let rev = jacobian(Self.composite, at: x)
        let fwd = jacobian(Self.composite, at: x, forwardMode: true)
        #expect(rev.shape == [3, 3] && fwd.shape == [3, 3])
        #expect(allClose(rev, fwd, rtol: 1e-10, atol: 1e-12).ok)
        // Linear map: the Jacobian is the matrix.
        let lin = jacobian({ matmul(Self.a, $0) }, at: x)
        #expect(allClose(lin, Self.a).ok)
        // Shapes: f(x).shape + x.shape.
        let m = Tensor.randn([2, 2], dtype: .float64)
        #expect(jacobian({ $0.sum(dim: 0) }, at: m).shape == [2, 2, 2])
        #expect(jacobian({ $0.sum(dim: 0) }, at: m, forwardMode: true).shape == [2, 2, 2])
    }

    @Test func hessianOfQuadraticForm() {
        // f(x) = xᵀ A x has Hessian A + Aᵀ everywhere.
        let x = Tensor([0.4, -0.1, 2.0], dtype: .float64)
        let h = hessian({ (matmul($0, matmul(Self.a, $0))) }, at: x)
        #expect(h.shape == [3, 3])
        #expect(allClose(h, Self.a + Self.a.t(), rtol: 1e-10, atol: 1e-12).ok)
    }

    @Test func dualLevelAndMakeDual() {
        let x = Tensor([1.0, 2.0], dtype: .float64)
        dualLevel {
            let d = x.makeDual(tangent: Tensor([1.0, 0.0], dtype: .float64))
            #expect(d.sharesStorage(with: x))
            #expect(d.forwardGrad != nil)
            let y = d * d * 3
            #expect(y.forwardGrad!.toDoubleArray() == [6, 0])
            let z = matmul(d, Tensor([1.0, 1.0], dtype: .float64))
            #expect(z.forwardGrad!.item() == 1)
            // A tensor without a tangent stays plain.
            #expect((x * 2).forwardGrad == nil)
        }
        #expect(x.forwardGrad == nil)
    }

    @Test func forwardAndReverseTogether() {
        // A dual tensor that also requires grad: both derivatives are available.
        let w = Tensor([2.0], dtype: .float64, requiresGrad: true)
        dualLevel {
            let d = w.makeDual(tangent: Tensor([1.0], dtype: .float64))
            let y = (d * d).sum()
            #expect(y.forwardGrad!.item() == 4)
            y.backward()
        }
        #expect(w.grad!.item() == 4)
    }

    @Test func gradcheckCompositeFunction() {
        #expect(gradcheck({ Self.composite($0[0]) }, inputs: [Tensor([0.3, -1.2, 0.8], dtype: .float64)]).passed)
    }
}
