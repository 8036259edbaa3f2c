extension Tensor {
    /// Computes the gradient of this tensor with respect to the graph's leaves, accumulating into `.grad`.
    ///
    /// As `tensor.backward()` in PyTorch: a scalar needs no `gradient`; a non-scalar needs one of its shape.
    /// - Parameters:
    ///   - gradient: the gradient of some scalar with respect to `self` (defaults to 1 for scalars).
    ///   - retainGraph: keep saved tensors so backward can run again through the same graph.
    ///   - createGraph: record the backward itself, for higher-order gradients.
    public func backward(gradient: Tensor? = nil, retainGraph: Bool? = nil, createGraph: Bool = false) {
        check(requiresGradFlag, "backward: element 0 of tensors does not require grad and does not have a gradFn")
        let g: Tensor
        if let gradient {
            check(gradient.shape == shape, "backward: gradient has shape \(gradient.shape) but the tensor has shape \(shape)")
            // An alias, so `.grad` never takes over the caller's tensor's memory (it would change with it).
            g = gradient.detached()
        } else {
            check(count == 1, "backward: grad can be implicitly created only for scalar outputs; got shape \(shape), pass gradient:")
            g = Tensor.ones(shape, dtype: dtype, device: device)
        }
        _ = Engine.run(roots: [self], rootGrads: [g], retainGraph: retainGraph ?? createGraph, createGraph: createGraph)
    }

    /// Keeps `.grad` for this non-leaf tensor after `backward()` (`retain_grad()`).
    public func retainGrad() {
        check(requiresGradFlag, "retainGrad: can't retain the gradient of a tensor that doesn't require grad")
        guard let fn = gradFn else { return }
        if !retainsGradFlag { retainsGradFlag = true; fn.ensuredExtras.retained.append((outputNr, WeakTensor(tensor: self))) }
    }

    /// Whether `.grad` is kept for this non-leaf tensor.
    public var retainsGrad: Bool { retainsGradFlag }

    /// Registers a function called with this tensor's gradient during backward; a non-nil result replaces it
    /// (`register_hook`).
    public func registerHook(_ hook: @escaping (Tensor) -> Tensor?) {
        check(requiresGradFlag, "registerHook: cannot register a hook on a tensor that doesn't require gradient")
        if let fn = gradFn { fn.ensuredExtras.outputHooks.append((outputNr, hook)) } else { hooks = (hooks ?? []) + [hook] }
    }

    /// A tensor sharing storage but cut from the graph (`detach()`): no history, no gradient.
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// PyTorch's name for `detached()`.
    public func detach() -> Tensor { detached() }

    /// Cuts this tensor from the graph in place, making it a leaf that does not require grad (`detach_()`).
    ///
    /// A view cannot be detached in place (its history is tied to its base's), as in PyTorch: use `detach()`.
    @discardableResult
    public func detach_() -> Tensor {
        check(viewBase == nil,
              "detach_: can't detach views in-place (this tensor of shape \(shape) is a view of a tensor of shape \(viewBase?.shape ?? [])); use detach() instead")
        gradFn = nil; outputNr = 0; requiresGradFlag = false; tangent = nil
        return self
    }

    /// Sets `.grad` to nil (`setToNone`, PyTorch's default) or fills it with zeros.
    public func zeroGrad(setToNone: Bool = true) {
        if setToNone { grad = nil } else if let g = grad { noGrad { _ = g.zero_() } }
    }
}

/// TensorFlow's name for `detach()`: the value of `x` with no gradient flowing through it.
public func stopGradient(_ x: Tensor) -> Tensor { x.detached() }

/// Gradients of `outputs` with respect to `inputs`, returned instead of accumulated into `.grad`.
///
/// - With `gradOutputs` omitted it behaves as `tf.gradients`: every output is summed (ones as
///   output gradients), so non-scalar outputs are allowed.
/// - With `gradOutputs` it is `torch.autograd.grad`.
/// - An input that does not influence the outputs is an error unless `allowUnused`, when its gradient is nil.
public func gradients(of outputs: [Tensor], wrt inputs: [Tensor], gradOutputs: [Tensor]? = nil,
                      retainGraph: Bool? = nil, createGraph: Bool = false, allowUnused: Bool = false) -> [Tensor?] {
    for (i, o) in outputs.enumerated() {
        check(o.requiresGradFlag, "gradients: output \(i) (shape \(o.shape)) does not require grad and has no gradFn")
    }
    for (i, x) in inputs.enumerated() {
        check(x.requiresGradFlag, "gradients: input \(i) (shape \(x.shape)) does not require grad")
    }
    let gs: [Tensor]
    if let gradOutputs {
        check(gradOutputs.count == outputs.count, "gradients: got \(gradOutputs.count) gradOutputs for \(outputs.count) outputs")
        for (o, g) in zip(outputs, gradOutputs) {
            check(o.shape == g.shape, "gradients: gradOutput shape \(g.shape) does not match output shape \(o.shape)")
        }
        gs = gradOutputs
    } else {
        gs = outputs.map { Tensor.ones($0.shape, dtype: $0.dtype, device: $0.device) }
    }
    let result = Engine.run(roots: outputs, rootGrads: gs, retainGraph: retainGraph ?? createGraph,
                            createGraph: createGraph, capture: inputs.map { $0.gradEdge })
    if !allowUnused {
        for (i, r) in result.enumerated() where r == nil {
            nablaFail("gradients: input \(i) (shape \(inputs[i].shape)) was not used to compute the outputs; pass allowUnused: true to get nil for it")
        }
    }
    return result
}
