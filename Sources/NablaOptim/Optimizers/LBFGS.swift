/// Limited-memory BFGS with an optional strong-Wolfe line search (`torch.optim.LBFGS`).
///
/// Each `step(_:)` runs up to `maxIter` L-BFGS iterations and calls the closure whenever it needs the loss
/// and gradient at a new point; the closure must clear the gradients, compute the loss, call `backward()` and
/// return the loss, exactly as in PyTorch. The algorithm is PyTorch's step for step (the two-loop recursion
/// over a `historySize` history, the first step `min(1, 1/‖g‖₁)·lr`, and `_strong_wolfe` with cubic
/// interpolation ported from minFunc), so float64 runs give PyTorch's iterates. Scalars (step sizes,
/// directional derivatives) are computed in `Double` whatever the parameters' dtype; PyTorch keeps them in the
/// parameters' dtype, so float32 runs may differ from PyTorch's in the last bits.
///
/// Like PyTorch's, it supports a single parameter group and keeps its whole state (history, direction, step)
/// as the state of the first parameter.
///
/// ```swift
/// let opt = LBFGS(model.parameters(), lr: 1, lineSearchFn: .strongWolfe)
/// for _ in 0..<10 {
///     opt.step {
///         opt.zeroGrad()
///         let loss = mseLoss(model(x), y)
///         loss.backward()
///         return loss
///     }
/// }
/// ```
public final class LBFGS: Optimizer {
    /// The line searches `LBFGS` offers (PyTorch's `line_search_fn`).
    public enum LineSearch: Sendable {
        /// Strong-Wolfe conditions with `c1 = 1e-4`, `c2 = 0.9`, at most 25 evaluations (`"strong_wolfe"`).
        case strongWolfe
    }

    /// Function evaluations so far, over all steps (`state["func_evals"]`).
    public private(set) var funcEvals = 0
    /// L-BFGS iterations so far, over all steps (`state["n_iter"]`).
    public private(set) var nIter = 0
    private var direction: Tensor?
    private var stepSize: Double = 0
    private var oldDirs: [Tensor] = []
    private var oldSteps: [Tensor] = []
    private var ro: [Double] = []
    private var hDiag: Double = 1
    private var prevFlatGrad: Tensor?
    private var prevLoss: Double = 0

    /// L-BFGS over `params` with PyTorch's defaults.
    ///
    /// - Parameters:
    ///   - lr: the step length (multiplies the first step's `min(1, 1/‖g‖₁)` and every later initial step).
    ///   - maxIter: iterations per `step`.
    ///   - maxEval: function evaluations per `step` (default `maxIter * 5 / 4`).
    ///   - toleranceGrad: stop when the largest gradient entry is at most this.
    ///   - toleranceChange: stop when the loss or the parameters change by less than this.
    ///   - historySize: how many correction pairs to keep.
    ///   - lineSearchFn: nil for fixed steps of `lr`, or `.strongWolfe`.
    public init(_ params: [Tensor], lr: Double = 1, maxIter: Int = 20, maxEval: Int? = nil,
                toleranceGrad: Double = 1e-7, toleranceChange: Double = 1e-9, historySize: Int = 100,
                lineSearchFn: LineSearch? = nil) {
        check(lr >= 0, "LBFGS: invalid learning rate \(lr)")
        check(maxIter > 0, "LBFGS: maxIter must be positive, got \(maxIter)")
        check(historySize > 0, "LBFGS: historySize must be positive, got \(historySize)")
        let evals = maxEval ?? maxIter * 5 / 4
        super.init(groups: [ParamGroup(params: params)],
                   defaults: [("lr", lr), ("max_iter", Double(maxIter)), ("max_eval", Double(evals)),
                              ("tolerance_grad", toleranceGrad), ("tolerance_change", toleranceChange),
                              ("history_size", Double(historySize)), ("line_search_fn", lineSearchFn == nil ? 0 : 1)],
                   name: "LBFGS")
        check(!params.isEmpty, "LBFGS: got an empty parameter list")
    }

    /// LBFGS needs the loss at several points per step: call `step { ... }` with a closure.
    public override func step() {
        nablaFail("LBFGS.step: needs a closure that re-evaluates the loss; call opt.step { ...; return loss }")
    }

    /// Runs up to `maxIter` L-BFGS iterations, calling `closure` (with gradients enabled) for the loss and
    /// gradient at each new point (`LBFGS.step(closure)`).
    ///
    /// - Returns: the loss of the first evaluation, before any update (as PyTorch).
    @discardableResult
    public override func step(_ closure: () -> Tensor) -> Tensor {
        check(paramGroups.count == 1, "LBFGS: doesn't support per-parameter options (parameter groups), got \(paramGroups.count) groups")
        let group = paramGroups[0]
        let lr = group.lr
        let maxIter = Int(group.option("max_iter")), maxEval = Int(group.option("max_eval"))
        let tolGrad = group.option("tolerance_grad"), tolChange = group.option("tolerance_change")
        let historySize = Int(group.option("history_size"))
        let lineSearch = group.flag("line_search_fn")
        func evaluate() -> Tensor { enableGrad { closure() } }

        let origLoss = evaluate()
        var loss = origLoss.item()
        var currentEvals = 1
        funcEvals += 1
        var flatGrad = gatherFlatGrad()
        var optCond = flatGrad.abs().max().item() <= tolGrad
        if optCond { return origLoss }

        var d = direction ?? flatGrad
        var t = stepSize
        var nLocal = 0
        while nLocal < maxIter {
            nLocal += 1
            nIter += 1
            // Descent direction.
            if nIter == 1 {
                d = -flatGrad
                oldDirs = []; oldSteps = []; ro = []
                hDiag = 1
            } else {
                let y = flatGrad - (prevFlatGrad ?? flatGrad)
                let s = d * t
                let ys = dot(y, s).item()
                if ys > 1e-10 {
                    if oldDirs.count == historySize {
                        oldDirs.removeFirst(); oldSteps.removeFirst(); ro.removeFirst()
                    }
                    oldDirs.append(y); oldSteps.append(s); ro.append(1 / ys)
                    hDiag = ys / dot(y, y).item()
                }
                // Two-loop recursion: r ≈ H⁻¹ (−g).
                let numOld = oldDirs.count
                var al = [Double](repeating: 0, count: numOld)
                var q = -flatGrad
                for i in stride(from: numOld - 1, through: 0, by: -1) {
                    al[i] = dot(oldSteps[i], q).item() * ro[i]
                    q = q.add(oldDirs[i], alpha: -al[i])
                }
                var r = q * hDiag
                for i in 0..<numOld {
                    let be = dot(oldDirs[i], r).item() * ro[i]
                    r = r.add(oldSteps[i], alpha: al[i] - be)
                }
                d = r
            }
            prevFlatGrad = flatGrad.clone()
            prevLoss = loss

            // Step length.
            t = nIter == 1 ? Swift.min(1, 1 / flatGrad.abs().sum().item()) * lr : lr
            let gtd = dot(flatGrad, d).item()
            if gtd > -tolChange { break }

            var lsEvals = 0
            if lineSearch {
                let xInit = noGrad { allParams.map { $0.detached().clone() } }
                let r = strongWolfe(evaluate, x: xInit, t: t, d: d, f: loss, g: flatGrad, gtd: gtd, toleranceChange: tolChange)
                loss = r.f; flatGrad = r.g; t = r.t; lsEvals = r.evals
                addToParams(t, d)
                optCond = flatGrad.abs().max().item() <= tolGrad
            } else {
                addToParams(t, d)
                if nLocal != maxIter {
                    // Re-evaluate only when another iteration follows (as PyTorch: no use in a stochastic setting).
                    loss = evaluate().item()
                    flatGrad = gatherFlatGrad()
                    optCond = flatGrad.abs().max().item() <= tolGrad
                    lsEvals = 1
                }
            }
            currentEvals += lsEvals
            funcEvals += lsEvals

            if nLocal == maxIter { break }
            if currentEvals >= maxEval { break }
            if optCond { break }
            if (d * t).abs().max().item() <= tolChange { break }
            if Swift.abs(loss - prevLoss) < tolChange { break }
        }
        direction = d
        stepSize = t
        return origLoss
    }

    // MARK: Flat views of the parameters

    /// Every parameter's gradient flattened into one new vector (zeros for a parameter without one).
    private func gatherFlatGrad() -> Tensor {
        noGrad {
            cat(allParams.map { p in
                (p.grad?.detached() ?? Tensor.zeros(p.shape, dtype: p.dtype)).reshape([-1]).to(p.dtype)
            }, dim: 0)
        }
    }

    /// `p += step · update[slice of p]` for every parameter.
    private func addToParams(_ step: Double, _ update: Tensor) {
        noGrad {
            var offset = 0
            for p in allParams {
                let n = p.count
                p.add_(update.narrow(0, start: offset, length: n).reshape(p.shape), alpha: step)
                offset += n
            }
        }
    }

    /// Copies `values` back into the parameters.
    private func setParams(_ values: [Tensor]) {
        noGrad { for (p, v) in zip(allParams, values) { p.copy_(v) } }
    }

    /// Loss and flat gradient at `x + t·d`; the parameters are restored to `x` afterwards.
    private func directionalEvaluate(_ evaluate: () -> Tensor, x: [Tensor], t: Double, d: Tensor) -> (Double, Tensor) {
        addToParams(t, d)
        let loss = evaluate().item()
        let g = gatherFlatGrad()
        setParams(x)
        return (loss, g)
    }

    // MARK: Strong-Wolfe line search (PyTorch's `_strong_wolfe`, from minFunc's lswolfe)

    private func strongWolfe(_ evaluate: () -> Tensor, x: [Tensor], t tIn: Double, d: Tensor, f: Double, g: Tensor,
                             gtd: Double, c1: Double = 1e-4, c2: Double = 0.9, toleranceChange: Double,
                             maxLS: Int = 25) -> (f: Double, g: Tensor, t: Double, evals: Int) {
        var t = tIn
        let dNorm = d.abs().max().item()
        var (fNew, gNew) = directionalEvaluate(evaluate, x: x, t: t, d: d)
        var evals = 1
        var gtdNew = dot(gNew, d).item()

        // Bracket an interval containing a point that satisfies the Wolfe criteria.
        var tPrev = 0.0, fPrev = f, gPrev = g, gtdPrev = gtd
        var done = false
        var lsIter = 0
        var bracket: [Double] = [], bracketF: [Double] = [], bracketG: [Tensor] = [], bracketGtd: [Double] = []
        while lsIter < maxLS {
            if fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev) {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew]
                break
            }
            if Swift.abs(gtdNew) <= -c2 * gtd {
                bracket = [t]; bracketF = [fNew]; bracketG = [gNew]
                done = true
                break
            }
            if gtdNew >= 0 {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew]
                break
            }
            // Extrapolate.
            let minStep = t + 0.01 * (t - tPrev)
            let maxStep = t * 10
            let tmp = t
            t = Self.cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, bounds: (minStep, maxStep))
            tPrev = tmp; fPrev = fNew; gPrev = gNew; gtdPrev = gtdNew
            (fNew, gNew) = directionalEvaluate(evaluate, x: x, t: t, d: d)
            evals += 1
            gtdNew = dot(gNew, d).item()
            lsIter += 1
        }
        if lsIter == maxLS {
            bracket = [0, t]; bracketF = [f, fNew]; bracketG = [g, gNew]
        }

        // Zoom: shrink the bracket until a point satisfies the criteria.
        var insufficientProgress = false
        var (low, high) = bracketF[0] <= bracketF[bracketF.count - 1] ? (0, 1) : (1, 0)
        while !done && lsIter < maxLS {
            if Swift.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange { break }
            t = Self.cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1])
            let hi = Swift.max(bracket[0], bracket[1]), lo = Swift.min(bracket[0], bracket[1])
            let eps = 0.1 * (hi - lo)
            if Swift.min(hi - t, t - lo) < eps {
                if insufficientProgress || t >= hi || t <= lo {
                    t = Swift.abs(t - hi) < Swift.abs(t - lo) ? hi - eps : lo + eps
                    insufficientProgress = false
                } else {
                    insufficientProgress = true
                }
            } else {
                insufficientProgress = false
            }
            (fNew, gNew) = directionalEvaluate(evaluate, x: x, t: t, d: d)
            evals += 1
            gtdNew = dot(gNew, d).item()
            lsIter += 1

            if fNew > f + c1 * t * gtd || fNew >= bracketF[low] {
                // Armijo not satisfied, or not lower than the lowest point.
                bracket[high] = t; bracketF[high] = fNew; bracketG[high] = gNew; bracketGtd[high] = gtdNew
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0)
            } else {
                if Swift.abs(gtdNew) <= -c2 * gtd {
                    done = true
                } else if gtdNew * (bracket[high] - bracket[low]) >= 0 {
                    // The old high becomes the new low.
                    bracket[high] = bracket[low]; bracketF[high] = bracketF[low]
                    bracketG[high] = bracketG[low]; bracketGtd[high] = bracketGtd[low]
                }
                bracket[low] = t; bracketF[low] = fNew; bracketG[low] = gNew; bracketGtd[low] = gtdNew
            }
        }
        return (bracketF[low], bracketG[low], bracket[low], evals)
    }

    /// The minimiser of the cubic through `(x1, f1, g1)` and `(x2, f2, g2)`, clamped to `bounds`
    /// (PyTorch's `_cubic_interpolate`, from minFunc's polyinterp); the midpoint when the cubic has none.
    public static func cubicInterpolate(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                                 bounds: (Double, Double)? = nil) -> Double {
        let (xminBound, xmaxBound) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
        let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        let d2Square = d1 * d1 - g1 * g2
        guard d2Square >= 0 else { return (xminBound + xmaxBound) / 2 }
        let d2 = d2Square.squareRoot()
        let minPos = x1 <= x2
            ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return Swift.min(Swift.max(minPos, xminBound), xmaxBound)
    }

    // MARK: Stateful

    /// The base state dict plus LBFGS' global state under the first parameter, as PyTorch keeps it:
    /// `state.0.func_evals`, `n_iter`, `d`, `t`, `H_diag`, `prev_flat_grad`, `prev_loss`, and the history as
    /// `state.0.old_dirs` / `state.0.old_stps` (`[k, n]`) and `state.0.ro` (`[k]`).
    public override func stateDict() -> StateDict {
        var out = super.stateDict()
        guard nIter > 0 || funcEvals > 0 else { return out }
        out.set("state.0.func_evals", funcEvals)
        out.set("state.0.n_iter", nIter)
        if let direction { out["state.0.d"] = direction.clone() }
        out.set("state.0.t", stepSize)
        out.set("state.0.H_diag", hDiag)
        out.set("state.0.prev_loss", prevLoss)
        if let prevFlatGrad { out["state.0.prev_flat_grad"] = prevFlatGrad.clone() }
        if !oldDirs.isEmpty {
            out["state.0.old_dirs"] = stack(oldDirs, dim: 0)
            out["state.0.old_stps"] = stack(oldSteps, dim: 0)
        }
        out["state.0.ro"] = Tensor(shape: [ro.count], data: ro, dtype: .float64)
        return out
    }

    /// Restores a state dict written by `stateDict()`, so a resumed run continues with the same history.
    ///
    /// - Throws: `StateDictError` as `Optimizer.loadStateDict`.
    public override func loadStateDict(_ state: StateDict, strict: Bool) throws {
        let mine: Set<String> = ["func_evals", "n_iter", "d", "t", "H_diag", "prev_loss", "prev_flat_grad",
                                 "old_dirs", "old_stps", "ro"]
        var rest = StateDict()
        for (k, v) in state where !(k.hasPrefix("state.0.") && mine.contains(String(k.dropFirst(8)))) { rest[k] = v }
        try super.loadStateDict(rest, strict: strict)
        let dtype = allParams[0].dtype
        funcEvals = state.int("state.0.func_evals") ?? 0
        nIter = state.int("state.0.n_iter") ?? 0
        direction = state["state.0.d"].map { $0.to(dtype).clone() }
        stepSize = state.double("state.0.t") ?? 0
        hDiag = state.double("state.0.H_diag") ?? 1
        prevLoss = state.double("state.0.prev_loss") ?? 0
        prevFlatGrad = state["state.0.prev_flat_grad"].map { $0.to(dtype).clone() }
        oldDirs = []; oldSteps = []
        if let dirs = state["state.0.old_dirs"], let stps = state["state.0.old_stps"] {
            for i in 0..<dirs.shape[0] {
                oldDirs.append(dirs.select(0, i).to(dtype).clone())
                oldSteps.append(stps.select(0, i).to(dtype).clone())
            }
        }
        ro = state["state.0.ro"].map { $0.to(.float64).contiguous().toDoubleArray() } ?? []
    }
}
