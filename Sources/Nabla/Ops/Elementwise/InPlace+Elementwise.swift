// In-place element-wise ops (`relu_`, `clamp_`, `maskedFill_`, random fills): each writes into
// `self`'s storage and bumps its version counter. Without autograd they run the kernel directly on
// `self`; when recording they compute out of place and take over the result's history (InPlace.swift).

extension Tensor {
    /// Runs `op` in place; `outOfPlace` is the differentiable form used while recording, applied to a
    /// clone of `self` when its backward saves its input (`savesInput`), so the saved value stays intact.
    private func unaryInPlace(_ name: StaticString, _ op: UnaryOp, savesInput: Bool, _ outOfPlace: (Tensor) -> Tensor) -> Tensor {
        let rec = prepareInPlace(name)
        check(dtype.isFloatingPoint || !op.needsFloat,
              "\(name): result type float32 can't be cast to the desired output type \(dtype); convert with .to(.float32) first")
        if !rec && !isRecording(self) {
            backend.unary(op, self, out: self)
            storage.bumpVersion()
            return self
        }
        return assignInPlace(outOfPlace(rec && savesInput ? clone() : self), recording: rec)
    }

    /// `relu` in place (`Tensor.relu_`).
    @discardableResult public func relu_() -> Tensor { unaryInPlace("relu_", .relu, savesInput: false) { Nabla.relu($0) } }
    /// `exp` in place (`Tensor.exp_`).
    @discardableResult public func exp_() -> Tensor { unaryInPlace("exp_", .exp, savesInput: false) { Nabla.exp($0) } }
    /// `log` in place (`Tensor.log_`).
    @discardableResult public func log_() -> Tensor { unaryInPlace("log_", .log, savesInput: true) { Nabla.log($0) } }
    /// `sqrt` in place (`Tensor.sqrt_`).
    @discardableResult public func sqrt_() -> Tensor { unaryInPlace("sqrt_", .sqrt, savesInput: false) { Nabla.sqrt($0) } }
    /// `erfinv` in place (`Tensor.erfinv_`).
    @discardableResult public func erfinv_() -> Tensor { unaryInPlace("erfinv_", .erfinv, savesInput: false) { Nabla.erfinv($0) } }
    /// `sigmoid` in place (`Tensor.sigmoid_`).
    @discardableResult public func sigmoid_() -> Tensor { unaryInPlace("sigmoid_", .sigmoid, savesInput: false) { Nabla.sigmoid($0) } }
    /// `tanh` in place (`Tensor.tanh_`).
    @discardableResult public func tanh_() -> Tensor { unaryInPlace("tanh_", .tanh, savesInput: false) { Nabla.tanh($0) } }
    /// `abs` in place (`Tensor.abs_`).
    @discardableResult public func abs_() -> Tensor { unaryInPlace("abs_", .abs, savesInput: true) { Nabla.abs($0) } }
    /// `floor` in place (`Tensor.floor_`).
    @discardableResult public func floor_() -> Tensor { unaryInPlace("floor_", .floor, savesInput: false) { Nabla.floor($0) } }
    /// `ceil` in place (`Tensor.ceil_`).
    @discardableResult public func ceil_() -> Tensor { unaryInPlace("ceil_", .ceil, savesInput: false) { Nabla.ceil($0) } }
    /// `round` in place (`Tensor.round_`).
    @discardableResult public func round_() -> Tensor { unaryInPlace("round_", .round, savesInput: false) { Nabla.round($0) } }
    /// `trunc` in place (`Tensor.trunc_`).
    @discardableResult public func trunc_() -> Tensor { unaryInPlace("trunc_", .trunc, savesInput: false) { Nabla.trunc($0) } }

    /// `self ** exponent` in place (`Tensor.pow_`).
    @discardableResult public func pow_(_ exponent: Double) -> Tensor {
        if !dtype.isFloatingPoint {
            check(exponent == exponent.rounded() && exponent >= 0,
                  "pow_: result type float32 can't be cast to the desired output type \(dtype) (exponent \(exponent))")
        }
        let rec = prepareInPlace("pow_")
        if !rec && !isRecording(self) && dtype.isFloatingPoint {
            backend.unary(.powScalar(exponent), self, out: self)
            storage.bumpVersion()
            return self
        }
        return assignInPlace(Nabla.pow(rec ? clone() : self, exponent), recording: rec)
    }

    /// Clamps into `[min, max]` in place (`Tensor.clamp_`); either bound may be nil, not both.
    @discardableResult public func clamp_(min: Double? = nil, max: Double? = nil) -> Tensor {
        check(min != nil || max != nil, "clamp_: at least one of 'min' or 'max' must not be nil")
        let rec = prepareInPlace("clamp_")
        let lo = min ?? -.infinity, hi = max ?? .infinity
        if !dtype.isFloatingPoint {
            check((lo.isInfinite || lo == lo.rounded()) && (hi.isInfinite || hi == hi.rounded()),
                  "clamp_: result type float32 can't be cast to the desired output type \(dtype) (min \(lo), max \(hi))")
        }
        if !rec && !isRecording(self) && !lo.isNaN && !hi.isNaN {
            backend.unary(.clamp(min: lo, max: hi), self, out: self)
            storage.bumpVersion()
            return self
        }
        return assignInPlace(Nabla.clamp(rec ? clone() : self, min: min, max: max), recording: rec)
    }

    /// Writes `value` where `mask` is true, in place (`Tensor.masked_fill_`).
    @discardableResult public func maskedFill_(_ mask: Tensor, value: Double) -> Tensor {
        let rec = prepareInPlace("maskedFill_")
        check(mask.dtype == .bool, "maskedFill_: expected a bool mask, got \(mask.dtype)")
        check(Shape.broadcast(mask.shape, shape, op: "maskedFill_") == shape,
              "maskedFill_: mask of shape \(mask.shape) does not broadcast to the tensor's shape \(shape)")
        if !rec && !isRecording(self) {
            backend.select(mask, Tensor.scalar(value, dtype: dtype, device: device), self, out: self)
            storage.bumpVersion()
            return self
        }
        return assignInPlace(Nabla.maskedFill(self, mask, value: value), recording: rec)
    }

    /// Fills with samples from a normal distribution (`Tensor.normal_`).
    ///
    /// ```swift
    /// noGrad { w.normal_(mean: 0, std: 0.02) }
    /// ```
    @discardableResult public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
        check(dtype.isFloatingPoint, "normal_: expected a floating tensor, got \(dtype)")
        check(std >= 0, "normal_: expects std >= 0.0, but found std \(std)")
        return randomFill("normal_", .normal(mean: mean, std: std), generator)
    }

    /// Fills with samples uniform on `[from, to)` (`Tensor.uniform_`).
    @discardableResult public func uniform_(from: Double = 0, to: Double = 1, generator: Generator? = nil) -> Tensor {
        check(dtype.isFloatingPoint, "uniform_: expected a floating tensor, got \(dtype)")
        check(from <= to, "uniform_: expects to return a [from, to) range, but found from=\(from) > to=\(to)")
        return randomFill("uniform_", .uniform(low: from, high: to), generator)
    }

    /// Fills with 1 with probability `p`, else 0 (`Tensor.bernoulli_`).
    @discardableResult public func bernoulli_(p: Double = 0.5, generator: Generator? = nil) -> Tensor {
        check(p >= 0 && p <= 1, "bernoulli_: expected 0 <= p <= 1, but got p=\(p)")
        return randomFill("bernoulli_", .bernoulli(p: p), generator)
    }

    /// Samples `kind` into `self` (through a contiguous temporary when `self` is strided); a non-leaf
    /// keeps a node with zero gradient, as `fill_` does.
    private func randomFill(_ name: StaticString, _ kind: RandomKind, _ generator: Generator?) -> Tensor {
        _ = prepareInPlace(name)
        let gen = generator ?? .default
        if isContiguous {
            backend.random(kind, out: self, generator: gen)
        } else {
            let tmp = Tensor(empty: shape, dtype: dtype, device: device)
            backend.random(kind, out: tmp, generator: gen)
            backend.copy(tmp, into: self)
        }
        storage.bumpVersion()
        if isGradEnabled, let base = viewBase, base.requiresGradFlag {
            writeThroughView(base, detached())
        } else if requiresGradFlag && gradFn != nil && isGradEnabled {
            let out = Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
            record(out, op: "FillBackward", inputs: [self]) { g, _ in [Tensor.zerosLike(g[0])] }
            gradFn = out.gradFn; outputNr = 0
        }
        return self
    }
}
