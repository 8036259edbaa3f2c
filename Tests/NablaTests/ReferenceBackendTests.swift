import Testing
import Nabla
import NablaTestSupport

/// Runs `body` with `.reference` as the default device, so every tensor a test creates (fixtures included) lives
/// on the reference backend and every op reaches it through the `Backend` protocol alone.
func onReference(_ body: () -> Void) { withDefaultDevice(.reference, body) }

/// The op-fixture suite and the gradchecks, re-run on the reference device: the same test bodies, every tensor on
/// `.reference` (PyTorch's numbers are the expected values, so the reference backend matches the CPU's to the
/// fixtures' tolerances).
@Suite struct ReferenceBackendFixtureTests {
    @Test(arguments: ElementwiseTests.ops.keys.sorted())
    func elementwise(_ name: String) { onReference { ElementwiseTests().matchesPyTorch(name) } }

    @Test(arguments: ElementwiseTests.unaryNames)
    func elementwiseGradcheck(_ name: String) { onReference { ElementwiseTests().unaryGradcheck(name) } }

    @Test func elementwiseRest() {
        onReference {
            let t = ElementwiseTests()
            t.binaryGradcheck(); t.selectionGradcheck(); t.secondOrder(); t.integerDTypesAreKept(); t.nanAndInfinityPropagate()
        }
    }

    @Test(arguments: ActivationTests.ops.keys.sorted())
    func activation(_ name: String) { onReference { ActivationTests().matchesPyTorch(name) } }

    @Test(arguments: ActivationTests.differentiable.keys.sorted())
    func activationGradcheck(_ name: String) { onReference { ActivationTests().gradcheckActivation(name) } }

    @Test(arguments: reduceCaseNames(ReduceTests.ops))
    func reduce(_ name: String) { onReference { ReduceTests().matchesTorch(name) } }

    @Test func reduceGradchecks() {
        onReference {
            let t = ReduceTests()
            t.gradcheckProd(); t.gradcheckMaxMin(); t.gradcheckStatistics(); t.gradcheckNorm(); t.gradcheckLogsumexpAndScans()
            t.edgeCases()
        }
    }

    @Test(arguments: reduceCaseNames(SoftmaxTests.ops))
    func softmaxFamily(_ name: String) { onReference { SoftmaxTests().matchesTorch(name) } }

    @Test(arguments: reduceCaseNames(SortTests.ops))
    func sort(_ name: String) { onReference { SortTests().matchesTorch(name) } }

    @Test func softmaxAndSortGradchecks() {
        onReference {
            SoftmaxTests().gradcheckSoftmax(); SoftmaxTests().gradcheckLogSoftmax(); SoftmaxTests().rowsSumToOneAndStayFinite()
            SortTests().gradcheckSelections(); SortTests().valuesAndIndices()
        }
    }

    @Test func convolutions() {
        onReference {
            let t = ConvTests()
            t.conv2dMatchesPyTorch(); t.conv1dMatchesPyTorch(); t.convTranspose2dMatchesPyTorch(); t.padMatchesPyTorch()
            t.gradcheckConv2d(); t.gradcheckConv1dAndTranspose(); t.secondOrderGradientsOfConv(); t.unbatchedInputAndShapes()
        }
    }

    @Test func normalisation() {
        onReference {
            let t = NormalizationTests()
            t.layerNormMatchesPyTorch(); t.groupNormMatchesPyTorch(); t.batchNormTrainingMatchesPyTorchAndUpdatesRunningStats()
            t.batchNormEvalUsesRunningStats(); t.float32AgreesWithFloat64(); t.gradcheckLayerNorm(); t.gradcheckGroupNorm()
            t.gradcheckBatchNorm(); t.backwardIsDifferentiable(); t.statisticsAreNormalised()
        }
    }

    @Test(arguments: [DType.float32, .float64])
    func attention(_ dt: DType) {
        onReference {
            let t = FusedAttentionTests()
            t.headsMatchReferenceWithGradients(dt); t.packedMatchesReference(dt); t.softmaxRowsMatchReference(dt)
        }
    }

    @Test func attentionSecondOrder() {
        onReference { FusedAttentionTests().headsSecondOrderMatchesReference(); FusedAttentionTests().packedSecondOrderPassesGradgradcheck() }
    }

    @Test(arguments: MatmulTests.names)
    func matmul(_ name: String) { onReference { MatmulTests().matmulMatchesTorch(name) } }

    @Test func matmulLinearIndexingPoolEmbeddingEinsum() {
        onReference {
            let m = MatmulTests()
            m.transposedOperands(); m.integerMatmul(); m.addmmValues(); m.gradcheckMatmul()
            let l = LinearTests()
            l.gradcheckAllOperands(); l.secondOrderGradients(); l.equalsTheCompositeForm()
            let i = IndexingTests()
            i.advancedIndexing(); i.maskAndIndexAssignment(); i.indexAssignmentIsDifferentiable(); i.subscriptGradients()
            i.fixtureSubscripts(); i.fixtureAssignment(); i.fixtureIndexOps(); i.indexOpGradients(); i.inPlaceScatter()
            let p = PoolTests()
            p.maxPoolMatchesPyTorch(); p.avgPoolMatchesPyTorch(); p.gradcheckMaxPool(); p.gradcheckAvgPool()
            let e = EmbeddingTests()
            e.embeddingMatchesPyTorch(); e.paddingRowGetsNoGradient(); e.gradcheckEmbedding(); e.bilinearMatchesPyTorch()
            e.gradcheckBilinear()
            EinsumTests().gradcheckEinsum()
        }
    }

    @Test(arguments: EinsumTests.fixture.cases.map(\.name))
    func einsum(_ name: String) { onReference { EinsumTests().matchesTorch(name) } }

    @Test func autograd() {
        onReference {
            let a = AutogradTests()
            a.simpleGradient(); a.gradAccumulatesAcrossBackwardCalls(); a.retainGradOnNonLeaf(); a.backwardWithGradientOnNonScalar()
            a.secondDerivativeWithCreateGraph(); a.hookOnLeafDoublesGradient(); a.gradientsLikeTFSumsNonScalarOutputs()
            a.gradientsLikeTorchWithGradOutputs(); a.diamondGraphAccumulates(); a.broadcastGradientsReduceToInputShape()
        }
    }
}

/// The fused ops reach the backend of their tensors' device: on `.reference` every one of them counts a call on the
/// reference backend and none on the CPU's; a fused op missing from `ReferenceBackend+Fused.swift` fails here.
@Suite(.serialized) struct ReferenceBackendDispatchTests {
    @Test func tensorsMoveBothWays() {
        let x = Tensor.randn([3, 4], dtype: .float64)
        let r = x.to(.reference)
        #expect(r.device == .reference && r.to(.cpu).device == .cpu)
        #expect(r.to(.cpu).toDoubleArray() == x.toDoubleArray())
        #expect(Device.reference.description == "reference")
        let y = (r * 2 + 1).sum()
        #expect(y.device == .reference)
        #expect(Swift.abs(y.item() - (x * 2 + 1).sum().item()) < 1e-12)
    }

    /// Every fused op but the optimizer steps (NablaOptimTests count those), driven by core ops on `device`.
    static func runFusedOps(on device: Device) {
        withDefaultDevice(device) {
            let g = Generator(seed: 7)
            // conv2d forward and backward (small K, im2col sizes)
            for c in [1, 8] {
                let x = Tensor.randn([2, c, 6, 6], generator: g).requiresGrad_()
                let w = Tensor.randn([4, c, 3, 3], generator: g).requiresGrad_(), b = Tensor.randn([4], generator: g).requiresGrad_()
                conv2d(x, w, bias: b, padding: 1).sum().backward()
            }
            // softmax / logSoftmax with backward
            let s = Tensor.randn([3, 5], generator: g).requiresGrad_()
            (softmax(s, dim: -1) * logSoftmax(s, dim: 1)).sum().backward()
            // layerNorm, groupNorm, batchNorm (training) with backward
            let n = Tensor.randn([4, 6, 3], generator: g).requiresGrad_()
            let w6 = Tensor.ones([6]).requiresGrad_(), b6 = Tensor.zeros([6]).requiresGrad_()
            (layerNorm(n, normalizedShape: [3]) + groupNorm(n, numGroups: 2, weight: w6, bias: b6)
             + batchNorm(n, runningMean: Tensor.zeros([6]), runningVar: Tensor.ones([6]), weight: w6, bias: b6, training: true)).sum().backward()
            // attention with backward
            let q = Tensor.randn([1, 2, 3, 4], generator: g).requiresGrad_()
            attentionHeads(q, q * 0.5, q + 1, scale: 0.5).sum().backward()
            // the recurrent sequence and the LSTM cell with backward
            let xs = Tensor.randn([3, 2, 4], generator: g).requiresGrad_()
            let wih = Tensor.randn([20, 4], generator: g).requiresGrad_(), whh = Tensor.randn([20, 5], generator: g).requiresGrad_()
            let h0 = Tensor.zeros([2, 5]), c0 = Tensor.zeros([2, 5])
            let r = recurrentSequence(RecurrentSequenceInputs(mode: .lstm, x: xs, wih: wih, whh: whh, bih: nil, bhh: nil, h0: h0,
                                                               c0: c0, reverse: false, zeroState: true))
            r.output.sum().backward()
            let gates = Tensor.randn([2, 20], generator: g).requiresGrad_()
            lstmCell(gates, c0).h.sum().backward()
            // the linear layers' forward with its epilogue (bias, ReLU, residual)
            let li = Tensor.randn([5, 4], generator: g).requiresGrad_(), lw = Tensor.randn([3, 4], generator: g).requiresGrad_()
            let lb = Tensor.randn([3], generator: g).requiresGrad_()
            (linearRelu(li, weight: lw, bias: lb) + linear(li, weight: lw, bias: lb, residual: Tensor.randn([5, 3], generator: g))
             + linear(li, weight: lw)).sum().backward()
        }
    }

    /// Each op has its own counter: the ordinals are the positions in `allCases`, and a bump moves one count only.
    @Test func fusedOpCountersAreOnePerOp() {
        #expect(FusedOp.allCases.map(\.ordinal) == Array(0..<FusedOp.caseCount))
        let counter = FusedOpCounter()
        for (i, op) in FusedOp.allCases.enumerated() { for _ in 0...i { counter.bump(op) } }
        for (i, op) in FusedOp.allCases.enumerated() { #expect(counter.count(op) == i + 1 && counter.snapshot[op] == i + 1) }
    }

    @Test func everyFusedOpReachesTheReferenceBackendAndNoCPUKernel() {
        let cpu = (Device.cpu.backend as AnyObject), ref = ReferenceBackend.shared
        let optimizerSteps: Set<FusedOp> = [.sgdStep, .adamStep, .rmspropStep, .adagradStep, .adadeltaStep]
        // The CPU counters are global and other suites run CPU kernels at the same time, so a window can see their
        // calls: the check passes when one of five windows is clean. A reference op that reached a CPU kernel
        // dirties every window.
        var dirty: [String] = []
        for attempt in 0..<5 {
            let cpuBefore = Self.counts(cpu), refBefore = ref.counter.snapshot
            Self.runFusedOps(on: .reference)
            let cpuAfter = Self.counts(cpu), refAfter = ref.counter.snapshot
            if attempt == 0 {
                for op in FusedOp.allCases where !optimizerSteps.contains(op) {
                    #expect(refAfter[op]! > refBefore[op]!, "\(op) never reached the reference backend")
                }
            }
            if cpuAfter == cpuBefore { return }
            dirty.append("\(cpuBefore) -> \(cpuAfter)")
        }
        Issue.record("CPU kernels ran for .reference tensors in each of 5 windows: \(dirty.joined(separator: "; "))")
    }

    @Test func theSameOpsOnTheCPUReachTheCPUKernels() {
        let before = Self.counts(Device.cpu.backend as AnyObject)
        Self.runFusedOps(on: .cpu)
        let after = Self.counts(Device.cpu.backend as AnyObject)
        for op in [FusedOp.conv2d, .conv2dBackward, .softmax, .normRows, .batchNormStats, .attention, .recurrentSequence, .lstmCell,
                   .linearEpilogue] {
            #expect(after[op]! > before[op]!, "\(op) did not reach the CPU backend")
        }
    }

    /// The CPU backend's counters (read through the package-visible counter).
    static func counts(_ backend: AnyObject) -> [FusedOp: Int] { cpuFusedOpCounts() }
}
