import Foundation
import Nabla

// Element-wise ONNX operators: arithmetic with NumPy broadcasting, activations, comparisons, Where, Cast.

/// Checks that `a` and `b` broadcast (ONNX multidirectional broadcasting is NumPy's), or throws naming the node.
func checkBroadcast(_ a: Tensor, _ b: Tensor, _ ctx: ONNXNodeContext) throws(ONNXError) {
    do { _ = try Shape.broadcastThrowing(a.shape, b.shape, op: ctx.opType) } catch {
        throw ctx.invalid("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
}

/// Builds the kernel of an element-wise operator, or `nil` when `ctx.opType` is not one.
func elementwiseKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel? {
    func unary(_ f: @escaping (Tensor) -> Tensor) throws(ONNXError) -> ONNXKernel {
        try ctx.requireInputs(1)
        return { xs in [f(try input(xs, 0, ctx))] }
    }
    func floatUnary(_ f: @escaping (Tensor) -> Tensor) throws(ONNXError) -> ONNXKernel {
        try ctx.requireInputs(1)
        return { xs in
            let x = try input(xs, 0, ctx)
            guard x.dtype.isFloatingPoint else { throw ctx.invalid("expects a floating point input, got \(x.dtype)") }
            return [f(x)]
        }
    }
    func binary(_ f: @escaping (Tensor, Tensor) -> Tensor) throws(ONNXError) -> ONNXKernel {
        try ctx.requireInputs(2)
        return { xs in
            let a = try input(xs, 0, ctx), b = try input(xs, 1, ctx)
            try checkBroadcast(a, b, ctx)
            return [f(a, b)]
        }
    }
    switch ctx.opType {
    case "Add": return try binary { a, b in a + b }
    case "Sub": return try binary { a, b in a - b }
    case "Mul": return try binary { a, b in a * b }
    case "Div":
        return try binary { a, b in
            guard a.dtype.isInteger && b.dtype.isInteger else { return a / b }
            // Integer division truncates toward zero (C semantics), as onnxruntime does.
            return trunc(a.to(.float64) / b.to(.float64)).to(a.dtype)
        }
    case "Mod":
        let fmod = try ctx.int("fmod", 0)
        return try binary { a, b in
            if fmod == 0 { return remainder(a, b) }
            let q = trunc(a.to(.float64) / b.to(.float64))
            return (a.to(.float64) - q * b.to(.float64)).to(a.dtype)
        }
    case "Pow":
        try ctx.requireInputs(2)
        if let e = ctx.constants[1], e.count == 1 {
            let p = e.reshape([]).item()
            return { xs in
                let x = try input(xs, 0, ctx)
                if p == 2 { return [x * x] }
                if p == 1 { return [x] }
                if p == 0.5 { return [x.sqrt()] }
                return [pow(x, p)]
            }
        }
        return try binary { a, b in pow(a, b).to(a.dtype) }
    case "Min": return try binary { a, b in minimum(a, b) }
    case "Max": return try binary { a, b in maximum(a, b) }
    case "Equal": return try binary { a, b in a.eq(b) }
    case "Less": return try binary { a, b in a.lt(b) }
    case "LessOrEqual": return try binary { a, b in a.le(b) }
    case "Greater": return try binary { a, b in a.gt(b) }
    case "GreaterOrEqual": return try binary { a, b in a.ge(b) }
    case "And": return try binary { a, b in a.logicalAnd(b) }
    case "Or": return try binary { a, b in a.logicalOr(b) }
    case "Not": return try unary { $0.logicalNot() }
    case "Neg": return try unary { -$0 }
    case "Abs": return try unary { $0.abs() }
    case "Sqrt": return try floatUnary { $0.sqrt() }
    case "Reciprocal": return try floatUnary { $0.reciprocal() }
    case "Exp": return try floatUnary { $0.exp() }
    case "Log": return try floatUnary { $0.log() }
    case "Erf": return try floatUnary { $0.erf() }
    case "Tanh": return try floatUnary { $0.tanh() }
    case "Sigmoid": return try floatUnary { $0.sigmoid() }
    case "Relu": return try unary { relu($0) }
    case "LeakyRelu":
        let alpha = try ctx.float("alpha", 0.01)
        return try floatUnary { leakyRelu($0, negativeSlope: alpha) }
    case "Gelu":
        guard ctx.opset >= 20 else { return nil }
        let approx = try ctx.string("approximate", "none")
        guard approx == "none" || approx == "tanh" else { throw ctx.invalid("approximate must be 'none' or 'tanh', got '\(approx)'") }
        return try floatUnary { gelu($0, approximate: approx == "tanh" ? .tanh : .none) }
    case "Identity": return try unary { $0 }
    case "Dropout":
        // Inference: the identity (a `ratio`/`training_mode` input is ignored unless training_mode is a true constant).
        try ctx.requireInputs(1)
        if ctx.constants.count > 2, let t = ctx.constants[2], t.count == 1, t.reshape([]).item() != 0 {
            throw ctx.invalid("training_mode = true is not supported (inference only)")
        }
        let wantsMask = ctx.outputCount > 1
        return { xs in
            let x = try input(xs, 0, ctx)
            return wantsMask ? [x, Tensor.onesLike(x, dtype: .bool)] : [x]
        }
    case "Where":
        try ctx.requireInputs(3)
        return { xs in
            let c = try input(xs, 0, ctx), a = try input(xs, 1, ctx), b = try input(xs, 2, ctx)
            guard c.dtype == .bool else { throw ctx.invalid("condition must be bool, got \(c.dtype)") }
            try checkBroadcast(a, b, ctx)
            try checkBroadcast(c, a, ctx)
            return [`where`(c, a, b)]
        }
    case "Cast":
        try ctx.requireInputs(1)
        let to = Int32(clamping: try ctx.int("to", 1))
        guard let dtype = ONNXTensorDecoder.dtype(to), [1, 6, 7, 9, 11].contains(to) else {
            throw ctx.invalid("cast to \(ONNXTensorDecoder.typeName(to)) is not supported")
        }
        return { xs in
            let x = try input(xs, 0, ctx)
            return [x.dtype == dtype ? x : x.to(dtype)]
        }
    case "Clip":
        try ctx.requireInputs(1)
        return { xs in
            let x = try input(xs, 0, ctx)
            let lo = xs.count > 1 ? xs[1].map { $0.reshape([]).item() } : nil
            let hi = xs.count > 2 ? xs[2].map { $0.reshape([]).item() } : nil
            return [clamp(x, min: lo, max: hi)]
        }
    default:
        return nil
    }
}
