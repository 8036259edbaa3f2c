import Testing
import Nabla
import NablaTestSupport

/// XNOR-Net style binarisation (the seed example): sign in forward, straight-through estimator in
/// backward, passing the gradient where |x| <= 1 and zeroing it elsewhere.
enum StraightThroughSign: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
        let x = inputs[0]
        ctx.saveForBackward(x)
        return x.ge(0).to(x.dtype) * 2 - 1
    }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let x = ctx.savedTensors[0]
        let inside = x.ge(-1).logicalAnd(x.le(1)).to(gradOutput.dtype)
        return [gradOutput * inside]
    }
}

/// `alpha * x * y` with alpha kept in the context as a number; backward written with Tensor ops.
enum ScaledProduct: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
        ctx.saveForBackward(inputs[0], inputs[1])
        ctx["alpha"] = 3
        return inputs[0] * inputs[1] * 3
    }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let x = ctx.savedTensors[0], y = ctx.savedTensors[1]
        let alpha = ctx["alpha"]!
        return [ctx.needsInputGrad[0] ? gradOutput * y * alpha : nil,
                ctx.needsInputGrad[1] ? gradOutput * x * alpha : nil]
    }
}

/// `x³` saving its own output (`y = x³`, `dy/dx = 3 y / x`), to test saved outputs.
enum CubeSavingOutput: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
        let y = inputs[0] * inputs[0] * inputs[0]
        ctx.saveForBackward(inputs[0], y)
        return y
    }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let x = ctx.savedTensors[0], y = ctx.savedTensors[1]
        return [gradOutput * y * 3 / x]
    }
}

/// `x²` with backward `2x`, differentiable twice.
enum Square: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
        ctx.saveForBackward(inputs[0])
        return inputs[0] * inputs[0]
    }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        [gradOutput * ctx.savedTensors[0] * 2]
    }
}

@Suite struct CustomFunctionTests {
    @Test func straightThroughSign() {
        let x = Tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0], requiresGrad: true)
        let y = StraightThroughSign.apply(x)
        #expect(y.toDoubleArray() == [-1, -1, -1, 1, 1, 1, 1])
        #expect(y.gradFn?.name == "StraightThroughSignBackward")
        #expect(!y.isLeaf && y.requiresGrad)
        y.sum().backward()
        #expect(x.grad!.toDoubleArray() == [0, 1, 1, 1, 1, 1, 0])
    }

    @Test func straightThroughInsideNetwork() {
        // The gradient flows through the estimator into an upstream weight.
        let w = Tensor([0.5, 3.0], requiresGrad: true)
        let x = Tensor([1.0, 0.2])
        let loss = (StraightThroughSign.apply(w * x) * Tensor([2.0, 5.0])).sum()
        loss.backward()
        // w*x = [0.5, 0.6], both inside [-1, 1]: d/dw = upstream * x.
        #expect(allClose(w.grad!, Tensor([2.0, 1.0])).ok)
    }

    @Test func noRecordingWithoutGrad() {
        let x = Tensor([0.3, -0.3])
        let y = StraightThroughSign.apply(x)
        #expect(y.gradFn == nil && !y.requiresGrad)
        let xg = Tensor([0.3], requiresGrad: true)
        let z = noGrad { StraightThroughSign.apply(xg) }
        #expect(z.gradFn == nil)
    }

    @Test func userInfoAndNeedsInputGrad() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = Tensor([3.0, 4.0])
        let out = ScaledProduct.apply(x, y)
        #expect(out.toDoubleArray() == [9, 24])
        out.sum().backward()
        #expect(x.grad!.toDoubleArray() == [9, 12])
        #expect(y.grad == nil)
    }

    @Test func gradcheckCustom() {
        // Same shapes (the custom backward does not reduce broadcasts).
        #expect(gradcheck({ ScaledProduct.apply($0[0], $0[1]) },
                          inputs: [Tensor.randn([2, 3], dtype: .float64), Tensor.randn([2, 3], dtype: .float64)]).passed)
        #expect(gradcheck({ CubeSavingOutput.apply($0[0]) }, inputs: [Tensor([0.5, 1.5, -2.0], dtype: .float64)]).passed)
    }

    @Test func savedOutput() {
        let x = Tensor([2.0, -1.0], requiresGrad: true)
        let y = CubeSavingOutput.apply(x)
        y.sum().backward()
        #expect(allClose(x.grad!, Tensor([12.0, 3.0])).ok)
    }

    @Test func savedOutputDoesNotLeak() {
        weak var weakOut: Tensor?
        do {
            let x = Tensor([2.0], requiresGrad: true)
            let y = CubeSavingOutput.apply(x)
            weakOut = y
            #expect(weakOut != nil)
        }
        #expect(weakOut == nil)
    }

    @Test func higherOrderThroughCustomBackward() {
        let x = Tensor([3.0], dtype: .float64, requiresGrad: true)
        let y = Square.apply(x)
        let g = gradients(of: [y], wrt: [x], createGraph: true)[0]!
        #expect(g.item() == 6)
        let gg = gradients(of: [g], wrt: [x])[0]!
        #expect(gg.item() == 2)
    }

    @Test func forwardModeThroughCustomFunction() {
        // jvp falls back to the double-vjp trick through the custom backward.
        let x = Tensor([-2.0, 0.5, 0.8], dtype: .float64)
        let (y, t) = jvp({ StraightThroughSign.apply($0[0]) }, primals: [x], tangents: [Tensor([1.0, 2.0, 3.0], dtype: .float64)])
        #expect(y.toDoubleArray() == [-1, 1, 1])
        #expect(t.toDoubleArray() == [0, 2, 3])
        let (_, t2) = jvp({ Square.apply($0[0]) }, primals: [x], tangents: [Tensor.onesLike(x)])
        #expect(allClose(t2, x * 2).ok)
        // A function that saves its own output.
        let (_, t3) = jvp({ CubeSavingOutput.apply($0[0]) }, primals: [x], tangents: [Tensor.onesLike(x)])
        #expect(allClose(t3, x * x * 3, rtol: 1e-12, atol: 1e-12).ok)
    }

    @Test func savedInputVersionIsTracked() {
        // The saved input is checked for in-place changes: an unmodified one backpropagates normally,
        // and a tensor the function did not save may be modified freely.
        let x = Tensor([0.5, 2.0], requiresGrad: true)
        let other = Tensor([1.0, 1.0])
        let y = StraightThroughSign.apply(x)
        let before = other.version
        noGrad { _ = other.add_(1) }
        #expect(other.version == before + 1)
        (y * other).sum().backward()
        #expect(x.grad!.toDoubleArray() == [2, 0])
    }
}
