import Nabla

extension Module {
    /// Moves every parameter and buffer (and any gradient) to `device`, in place (`module.to(device)`).
    ///
    /// The tensor objects stay the same (their data is re-pointed with `set_`), so optimizers and references that
    /// hold them see the moved data. Create the optimizer after moving, or its state stays where it was made.
    /// ```swift
    /// let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2)).to(.reference)
    /// ```
    @discardableResult
    public func to(_ device: Device) -> Self {
        noGrad {
            for (_, t) in namedParameters() + namedBuffers() where t.device != device {
                let grad = t.grad
                t.set_(t.to(device))
                t.grad = grad.map { $0.to(device) }
            }
        }
        return self
    }

    /// Converts every floating-point parameter and buffer (and any gradient) to `dtype`, in place
    /// (`module.to(torch.float64)`); integer buffers are left as they are, as in PyTorch.
    @discardableResult
    public func to(_ dtype: DType) -> Self {
        check(dtype.isFloatingPoint, "Module.to: expected a floating point dtype, got \(dtype)")
        noGrad {
            for (_, t) in namedParameters() + namedBuffers() where t.dtype.isFloatingPoint && t.dtype != dtype {
                let grad = t.grad
                t.set_(t.to(dtype))
                t.grad = grad.map { $0.to(dtype) }
            }
        }
        return self
    }

    /// `to(.float64)` (`module.double()`).
    @discardableResult
    public func double() -> Self { to(.float64) }

    /// `to(.float32)` (`module.float()`).
    @discardableResult
    public func float() -> Self { to(.float32) }
}
