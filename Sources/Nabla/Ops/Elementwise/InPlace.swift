// In-place ops: write into `self`'s storage and bump its version counter, so autograd can refuse
// a backward that would read the overwritten values.

extension Tensor {
    /// Checks that an in-place op on `self` is legal for autograd and returns whether it must be recorded.
    func prepareInPlace(_ op: StaticString, inputs: [Tensor] = []) -> Bool {
        check(!zip(shape, strides).contains { $0.1 == 0 && $0.0 > 1 },
              "\(op): unsupported operation: more than one element of the written-to tensor (shape \(shape), strides \(strides)) refers to a single memory location; clone() it before the in-place operation")
        let base = viewBase
        let recording = isGradEnabled && (requiresGradFlag || base?.requiresGradFlag == true || inputs.contains { $0.requiresGradFlag })
        if recording {
            check(!(gradFn == nil && requiresGradFlag),
                  "\(op): a leaf Variable that requires grad is being used in an in-place operation; wrap it in noGrad { } or use the out-of-place form")
            if let base {
                check(!(base.gradFn == nil && base.requiresGradFlag),
                      "\(op): a view of a leaf Variable that requires grad is being used in an in-place operation; wrap it in noGrad { } or use the out-of-place form")
            }
        }
        return recording
    }

    /// Writes `value` (already computed out of place, same shape) into `self`, rebasing history when recording.
    @discardableResult
    func assignInPlace(_ value: Tensor, recording: Bool) -> Tensor {
        check(value.shape == shape || Shape.broadcast(value.shape, shape, op: "inplace") == shape,
              "in-place: result of shape \(value.shape) cannot be written into a tensor of shape \(shape)")
        backend.copy(value, into: self)
        storage.bumpVersion()
        if recording, let base = viewBase {
            writeThroughView(base, value)
        } else if recording && value.gradFn != nil {
            // The tensor now holds `value`: take over its history.
            gradFn = value.gradFn; outputNr = value.outputNr; requiresGradFlag = true
        }
        if forwardTangentActive(value) { tangent = value.tangent }
        return self
    }

    /// `self += other` in place (`add_`).
    @discardableResult public func add_(_ other: Tensor, alpha: Double = 1) -> Tensor {
        let rec = prepareInPlace("add_", inputs: [other])
        if !rec && dtype == .float32 && other.dtype == .float32 && isContiguous && other.isContiguous && other.shape == shape && alpha != 0 {
            backend.binary(.add, self, alpha == 1 ? other : OpSupport.binaryScalar(.mul, other, alpha, reversed: false, name: "add_"), out: self)
            storage.bumpVersion()
            return self
        }
        return assignInPlace(Nabla.add(self, other, alpha: alpha), recording: rec)
    }
    /// `self += scalar` in place.
    @discardableResult public func add_(_ scalar: Double) -> Tensor { assignInPlace(Nabla.add(self, scalar), recording: prepareInPlace("add_")) }
    /// `self -= other` in place (`sub_`).
    @discardableResult public func sub_(_ other: Tensor, alpha: Double = 1) -> Tensor { add_(other, alpha: -alpha) }
    /// `self -= scalar` in place.
    @discardableResult public func sub_(_ scalar: Double) -> Tensor { add_(-scalar) }
    /// `self *= other` in place (`mul_`).
    @discardableResult public func mul_(_ other: Tensor) -> Tensor {
        let rec = prepareInPlace("mul_", inputs: [other])
        // The backward of mul reads `self`: when recording, compute from a copy so the overwrite is legal.
        return assignInPlace(Nabla.mul(rec ? clone() : self, other), recording: rec)
    }
    /// `self *= scalar` in place.
    @discardableResult public func mul_(_ scalar: Double) -> Tensor { assignInPlace(Nabla.mul(self, scalar), recording: prepareInPlace("mul_")) }
    /// `self /= other` in place (`div_`).
    @discardableResult public func div_(_ other: Tensor) -> Tensor {
        let rec = prepareInPlace("div_", inputs: [other])
        return assignInPlace(Nabla.div(rec ? clone() : self, other), recording: rec)
    }
    /// `self /= scalar` in place.
    @discardableResult public func div_(_ scalar: Double) -> Tensor { assignInPlace(Nabla.div(self, scalar), recording: prepareInPlace("div_")) }

    /// Fills with `value` in place (`fill_`).
    @discardableResult public func fill_(_ value: Double) -> Tensor {
        _ = prepareInPlace("fill_")
        backend.fill(self, value: value)
        storage.bumpVersion()
        if isGradEnabled, let base = viewBase, base.requiresGradFlag {
            writeThroughView(base, detached())
        } else if requiresGradFlag && gradFn != nil && isGradEnabled {
            let shp = shape, dt = dtype, dev = device
            let out = Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
            record(out, op: "FillBackward", inputs: [self]) { _, _ in [Tensor.zeros(shp, dtype: dt, device: dev)] }
            gradFn = out.gradFn; outputNr = 0
        }
        return self
    }
    /// Fills with zeros in place (`zero_`).
    @discardableResult public func zero_() -> Tensor { fill_(0) }

    /// Copies `src` (broadcast to this shape, converted to this dtype) into `self` (`copy_`).
    @discardableResult public func copy_(_ src: Tensor) -> Tensor {
        let rec = prepareInPlace("copy_", inputs: [src])
        _ = Shape.broadcast(src.shape, shape, op: "copy_")
        let value = src.shape == shape ? src : src.expand(shape)
        if !rec {
            backend.copy(src.device == device ? value : value.to(device), into: self)
            storage.bumpVersion()
            return self
        }
        return assignInPlace(value.to(dtype) + 0, recording: rec)
    }
}

@inline(__always) func forwardTangentActive(_ t: Tensor) -> Bool { AutogradState.forwardLevel != 0 && t.tangent != nil }
