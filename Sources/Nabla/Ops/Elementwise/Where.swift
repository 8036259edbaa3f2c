// Selection ops: `where`, `maskedFill` and `clamp`, with broadcasting and their backward.

/// `condition ? input : other` element-wise, all three broadcast together (`torch.where`).
///
/// `condition` must be a bool tensor; the result has the promoted dtype of `input` and `other`.
/// Gradients flow to `input` where `condition` holds and to `other` elsewhere.
/// ```swift
/// let y = `where`(x.gt(0), x, x * 0.1)      // or x.where(x.gt(0), x * 0.1)
/// ```
public func `where`(_ condition: Tensor, _ input: Tensor, _ other: Tensor) -> Tensor {
    check(condition.dtype == .bool, "where: expected condition to be a bool tensor, got \(condition.dtype)")
    check(condition.device == input.device && input.device == other.device,
          "where: expected all tensors on the same device, got \(condition.device), \(input.device) and \(other.device)")
    let shape = Shape.broadcast(Shape.broadcast(condition.shape, input.shape, op: "where"), other.shape, op: "where")
    let dt = OpSupport.resultType(input, other)
    let out = Tensor(empty: shape, dtype: dt, device: input.device)
    input.backend.select(condition, OpSupport.cast(input, dt), OpSupport.cast(other, dt), out: out)
    guard isRecording(input, other) else { return out }
    let sa = input.shape, sb = other.shape
    return record(out, op: "WhereBackward", inputs: [input, other], saving: [condition]) { g, _ in
        [input.requiresGradFlag || input.tangent != nil ? `where`(condition, g[0], 0.0).sumTo(sa) : nil,
         other.requiresGradFlag || other.tangent != nil ? `where`(condition, 0.0, g[0]).sumTo(sb) : nil]
    }
}

/// `condition ? input : other` with a scalar `other` (`torch.where(cond, x, 0.0)`).
public func `where`(_ condition: Tensor, _ input: Tensor, _ other: Double) -> Tensor {
    `where`(condition, input, Tensor.scalar(other, dtype: OpSupport.scalarResultType(input.dtype, other), device: input.device))
}

/// `condition ? input : other` with a scalar `input` (`torch.where(cond, 0.0, y)`).
public func `where`(_ condition: Tensor, _ input: Double, _ other: Tensor) -> Tensor {
    `where`(condition, Tensor.scalar(input, dtype: OpSupport.scalarResultType(other.dtype, input), device: other.device), other)
}

/// `input` with `value` written where `mask` is true (`torch.masked_fill`), out of place.
///
/// `mask` is a bool tensor that broadcasts to `input`'s shape; the result keeps `input`'s dtype.
/// ```swift
/// let scores = logits.maskedFill(padding, value: -.infinity)
/// ```
public func maskedFill(_ input: Tensor, _ mask: Tensor, value: Double) -> Tensor {
    check(mask.dtype == .bool, "maskedFill: expected a bool mask, got \(mask.dtype)")
    check(Shape.broadcast(mask.shape, input.shape, op: "maskedFill") == input.shape,
          "maskedFill: mask of shape \(mask.shape) does not broadcast to the input's shape \(input.shape)")
    let out = Tensor(empty: input.shape, dtype: input.dtype, device: input.device)
    input.backend.select(mask, Tensor.scalar(value, dtype: input.dtype, device: input.device), input, out: out)
    guard isRecording(input) else { return out }
    return record(out, op: "MaskedFillBackward", inputs: [input], saving: [mask]) { g, _ in [`where`(mask, 0.0, g[0])] }
}

/// `input` with the 0-d tensor `value` written where `mask` is true; differentiable in `value` too.
public func maskedFill(_ input: Tensor, _ mask: Tensor, value: Tensor) -> Tensor {
    check(value.rank == 0, "maskedFill: expected a 0-dimensional value tensor, got shape \(value.shape)")
    check(Shape.broadcast(mask.shape, input.shape, op: "maskedFill") == input.shape,
          "maskedFill: mask of shape \(mask.shape) does not broadcast to the input's shape \(input.shape)")
    return `where`(mask, value.to(input.dtype), input)
}

/// Clamps every element into `[min, max]` (`torch.clamp`); either bound may be nil, not both.
///
/// NaN inputs stay NaN; when `min > max` every element becomes `max`, as PyTorch. Integer tensors
/// stay integral with integral bounds. The gradient passes where `min <= x <= max`.
/// ```swift
/// x.clamp(min: 0)            // relu
/// x.clamp(min: -1, max: 1)
/// ```
public func clamp(_ x: Tensor, min: Double? = nil, max: Double? = nil) -> Tensor {
    check(min != nil || max != nil, "clamp: at least one of 'min' or 'max' must not be nil")
    var input = x
    if !x.dtype.isFloatingPoint {
        let dt = OpSupport.scalarResultType(OpSupport.scalarResultType(x.dtype, min ?? 0), max ?? 0)
        input = OpSupport.cast(x, dt)
    }
    let out: Tensor
    if (min?.isNaN ?? false) || (max?.isNaN ?? false) {
        out = Tensor.full(input.shape, .nan, dtype: input.dtype, device: input.device)
    } else {
        out = OpSupport.unary(.clamp(min: min ?? -.infinity, max: max ?? .infinity), input)
    }
    guard isRecording(x) else { return out }
    return record(out, op: "ClampBackward", inputs: [x], saving: [x]) { g, _ in
        var mask: Tensor? = min.map { x.ge($0) }
        if let max { let m = x.le(max); mask = mask.map { $0.logicalAnd(m) } ?? m }
        return [g[0] * mask!.to(g[0].dtype)]
    }
}

/// Clamps element-wise between tensors `min` and `max` (`torch.clamp` with tensor bounds), broadcasting all.
///
/// Computed as `minimum(maximum(x, min), max)` (NaN propagates); gradients follow PyTorch: `x` where
/// `min <= x <= max`, `min` where `x < min` (and `min < max`), `max` where `x > max` or `max < min`.
public func clamp(_ x: Tensor, min: Tensor? = nil, max: Tensor? = nil) -> Tensor {
    check(min != nil || max != nil, "clamp: at least one of 'min' or 'max' must not be nil")
    var out = x
    if let min { out = OpSupport.binary(.maximum, out, min, name: "clamp") }
    if let max { out = OpSupport.binary(.minimum, out, max, name: "clamp") }
    let inputs = [x] + (min.map { [$0] } ?? []) + (max.map { [$0] } ?? [])
    guard isRecording(inputs) else { return out }
    return record(out, op: "ClampBackward", inputs: inputs, saving: inputs) { g, _ in
        let g = g[0]
        var inRange: Tensor? = min.map { x.ge($0) }
        if let max { let m = x.le(max); inRange = inRange.map { $0.logicalAnd(m) } ?? m }
        var grads: [Tensor?] = [`where`(inRange!, g, 0.0).sumTo(x.shape)]
        if let min {
            var c = x.lt(min)
            if let max { c = c.logicalAnd(min.lt(max)) }
            grads.append(`where`(c, g, 0.0).sumTo(min.shape))
        }
        if let max {
            var c = x.gt(max)
            if let min { c = c.logicalOr(max.lt(min)) }
            grads.append(`where`(c, g, 0.0).sumTo(max.shape))
        }
        return grads
    }
}

extension Tensor {
    /// `condition ? self : other` (`Tensor.where`).
    public func `where`(_ condition: Tensor, _ other: Tensor) -> Tensor { Nabla.`where`(condition, self, other) }
    /// `condition ? self : other` with a scalar `other` (`Tensor.where`).
    public func `where`(_ condition: Tensor, _ other: Double) -> Tensor { Nabla.`where`(condition, self, other) }
    /// `self` with `value` where `mask` is true (`Tensor.masked_fill`).
    public func maskedFill(_ mask: Tensor, value: Double) -> Tensor { Nabla.maskedFill(self, mask, value: value) }
    /// `self` with the 0-d tensor `value` where `mask` is true (`Tensor.masked_fill`).
    public func maskedFill(_ mask: Tensor, value: Tensor) -> Tensor { Nabla.maskedFill(self, mask, value: value) }
    /// Clamps into `[min, max]` (`Tensor.clamp`).
    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor { Nabla.clamp(self, min: min, max: max) }
    /// Clamps between tensor bounds (`Tensor.clamp`).
    public func clamp(min: Tensor? = nil, max: Tensor? = nil) -> Tensor { Nabla.clamp(self, min: min, max: max) }
    /// Alias of `clamp` (`Tensor.clip`).
    public func clip(min: Double? = nil, max: Double? = nil) -> Tensor { Nabla.clamp(self, min: min, max: max) }
    /// `clamp(min: value)` (`Tensor.clamp_min`).
    public func clampMin(_ value: Double) -> Tensor { Nabla.clamp(self, min: value) }
    /// `clamp(max: value)` (`Tensor.clamp_max`).
    public func clampMax(_ value: Double) -> Tensor { Nabla.clamp(self, max: value) }
}
