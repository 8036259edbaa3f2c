// Negative log-likelihood and cross-entropy on host tensors: one pass per row of [M, C] (any strides), rows spread
// over the kernel threads when there are many; the reductions summed in Double in row order, so results do not
// depend on the thread count.

/// The strided [M, C] operands and per-row targets of the loss kernels, as pointers.
private struct LossRows<T: FloatElement> {
    let m: Int, c: Int
    let target: UnsafeMutablePointer<Int64>, targetStride: Int
    let weight: UnsafeMutablePointer<T>?, weightStride: Int
    let ignoreIndex: Int64

    init(_ x: Tensor, _ target: Tensor, _ weight: Tensor?, _ ignoreIndex: Int) {
        m = x.shape[0]; c = x.shape[1]
        self.target = target.storage.pointer(Int64.self) + target.offset
        targetStride = target.strides[0]
        self.weight = weight.map { $0.storage.pointer(T.self) + $0.offset }
        weightStride = weight?.strides[0] ?? 0
        self.ignoreIndex = Int64(ignoreIndex)
    }

    /// Row `r`'s class (nil when ignored) and weight; stops on a class out of range.
    @inline(__always) func rowTarget(_ r: Int, op: StaticString) -> (Int, T)? {
        let t = target[r * targetStride]
        if t == ignoreIndex { return nil }
        if t < 0 || t >= Int64(c) {
            nablaFail("\(op): target class \(t) is out of range for \(c) classes (expected 0 ≤ target < \(c), or ignoreIndex \(ignoreIndex))")
        }
        return (Int(t), weight.map { $0[Int(t) * weightStride] } ?? 1)
    }

    /// The summed weights of the counted rows (the `.mean` divisor).
    func totalWeight(op: StaticString) -> Double {
        var s = 0.0
        for r in 0..<m { if case let (_, w)? = rowTarget(r, op: op) { s += Double(w) } }
        return s
    }

    /// Runs `body` over ranges of rows, on the kernel threads when the rows hold enough elements.
    func forRows(_ body: (Range<Int>) -> Void) {
        Parallel.forRanges(m, minChunk: Swift.max(1, Parallel.grain / Swift.max(c, 1)), body)
    }
}

extension CPUBackend {
    /// Whether the row kernels apply: float32/float64 rows and int64 targets on this device.
    private func lossKernelsApply(_ x: Tensor, _ target: Tensor, _ weight: Tensor?) -> Bool {
        (x.dtype == .float32 || x.dtype == .float64) && x.rank == 2 && target.dtype == .int64 && target.rank == 1
            && weight.map { $0.dtype == x.dtype && $0.rank == 1 } ?? true
    }

    /// One pass over the rows.
    public func nllLoss(_ input: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor) {
        guard lossKernelsApply(input, target, weight) else {
            return compositeNLLLoss(input, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: out)
        }
        if input.dtype == .float32 { nllRows(Float.self, input, target, weight, ignoreIndex, reduction, out, op: "nllLoss") }
        else { nllRows(Double.self, input, target, weight, ignoreIndex, reduction, out, op: "nllLoss") }
    }

    /// The rows' logSoftmax by `softmax(log: true)` itself (so `crossEntropy(x)` has the very bits of
    /// `nllLoss(logSoftmax(x))`, as in PyTorch), then one pass picking each row's loss from it.
    public func softmaxCrossEntropy(_ x: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction,
                                    logProbs: Tensor, loss: Tensor) {
        guard lossKernelsApply(x, target, weight) && logProbs.dtype == x.dtype else {
            softmax(x, dim: 1, log: true, out: logProbs)
            return nllLoss(logProbs, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: loss)
        }
        softmax(x, dim: 1, log: true, out: logProbs)
        if x.dtype == .float32 { nllRows(Float.self, logProbs, target, weight, ignoreIndex, reduction, loss, op: "crossEntropy") }
        else { nllRows(Double.self, logProbs, target, weight, ignoreIndex, reduction, loss, op: "crossEntropy") }
    }

    /// One pass writing each row's coefficient at its target and zeros elsewhere.
    public func nllLossBackward(_ grad: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor) {
        guard lossKernelsApply(out, target, weight) && grad.dtype == out.dtype else {
            return compositeNLLLossBackward(grad, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: out)
        }
        if out.dtype == .float32 { lossBackwardRows(Float.self, grad, nil, target, weight, ignoreIndex, reduction, out) }
        else { lossBackwardRows(Double.self, grad, nil, target, weight, ignoreIndex, reduction, out) }
    }

    /// One pass per row: `(exp(logProbs) − one-hot) · coefficient`.
    public func softmaxCrossEntropyBackward(_ grad: Tensor, logProbs: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int,
                                            reduction: LossReduction, out: Tensor) {
        guard lossKernelsApply(out, target, weight) && grad.dtype == out.dtype && logProbs.dtype == out.dtype else {
            let g = Tensor(empty: logProbs.shape, dtype: logProbs.dtype, device: logProbs.device)
            nllLossBackward(grad, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: g)
            return softmaxBackward(g, output: logProbs, dim: 1, log: true, out: out)
        }
        if out.dtype == .float32 { lossBackwardRows(Float.self, grad, logProbs, target, weight, ignoreIndex, reduction, out) }
        else { lossBackwardRows(Double.self, grad, logProbs, target, weight, ignoreIndex, reduction, out) }
    }

    /// The NLL of `x`'s rows of log-probabilities; errors name `op`.
    private func nllRows<T: FloatElement>(_: T.Type, _ x: Tensor, _ target: Tensor, _ weight: Tensor?, _ ignoreIndex: Int,
                                          _ reduction: LossReduction, _ out: Tensor, op: StaticString) {
        let rows = LossRows<T>(x, target, weight, ignoreIndex)
        let m = rows.m
        let xp = x.storage.pointer(T.self) + x.offset, xr = x.strides[0], xc = x.strides[1]
        let perRow = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(m, 1))
        defer { perRow.deallocate() }
        rows.forRows { range in
            for r in range {
                let row = xp + r * xr
                if case let (t, w)? = rows.rowTarget(r, op: op) { perRow[r] = Double(-w * row[t * xc]) } else { perRow[r] = 0 }
            }
        }
        let op0 = out.storage.pointer(T.self) + out.offset
        switch reduction {
        case .none:
            for r in 0..<m { op0[r * out.strides[0]] = T(perRow[r]) }
        case .sum, .mean:
            var s = 0.0
            for r in 0..<m { s += perRow[r] }
            op0[0] = T(reduction == .mean ? s / rows.totalWeight(op: op) : s)
        }
    }

    /// The gradient of the NLL (`logProbs` nil) or of the cross-entropy from its saved log-probabilities.
    private func lossBackwardRows<T: FloatElement>(_: T.Type, _ grad: Tensor, _ logProbs: Tensor?, _ target: Tensor, _ weight: Tensor?,
                                                   _ ignoreIndex: Int, _ reduction: LossReduction, _ out: Tensor) {
        let op: StaticString = logProbs == nil ? "nllLoss" : "crossEntropy"
        let rows = LossRows<T>(out, target, weight, ignoreIndex)
        let c = rows.c
        let gp = grad.storage.pointer(T.self) + grad.offset, gs = grad.rank == 0 ? 0 : grad.strides[0]
        let divisor = reduction == .mean ? rows.totalWeight(op: op) : 1
        let op0 = out.storage.pointer(T.self) + out.offset, or = out.strides[0], oc = out.strides[1]
        let lp = logProbs.map { $0.storage.pointer(T.self) + $0.offset }
        let lr = logProbs?.strides[0] ?? 0, lc = logProbs?.strides[1] ?? 0
        rows.forRows { range in
            for r in range {
                let orow = op0 + r * or
                guard case let (t, w)? = rows.rowTarget(r, op: op) else {
                    for j in 0..<c { orow[j * oc] = 0 }
                    continue
                }
                // d loss / d logProbs[r, t] = −w·g / divisor.
                let coef = T(Double(w * gp[reduction == .none ? r * gs : 0]) / divisor)
                if let lp {
                    let lrow = lp + r * lr
                    for j in 0..<c { orow[j * oc] = T.exp(lrow[j * lc]) * coef }
                    orow[t * oc] -= coef
                } else {
                    for j in 0..<c { orow[j * oc] = 0 }
                    orow[t * oc] = -coef
                }
            }
        }
    }
}
