import Testing
import Nabla
import NablaTestSupport

@Suite struct GraphTests {
    @Test func placeholderSpecAndPrinting() throws {
        let x = Graph.placeholder(shape: [-1, 3], name: "x")
        #expect(x.shape == [-1, 3])
        #expect(x.isPlaceholder)
        #expect(x.spec.description == "f32[*, 3]")
        let y = x.relu()
        let g = try Graph(inputs: [x], outputs: [y])
        #expect(g.nodes.count == 1)
        let text = g.description
        #expect(text.contains("graph(%x: f32[*, 3])"))
        #expect(text.contains("relu(%x) : f32[*, 3]"))
        #expect(g.dot().contains("digraph"))
        #expect(g.dot().contains("->"))
    }

    @Test func runMatchesEager() throws {
        let x = Graph.placeholder(shape: [-1, 2], name: "x")
        let w = Tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], dtype: .float32)
        let b = Graph.placeholder(shape: [3], name: "b")
        let h = try x.matmul(constant: w)
        let y = (h + b).tanh()
        #expect(y.shape == [-1, 3])
        let g = try Graph(inputs: [x, b], outputs: [y, h])
        let xv = Tensor([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.1], [2.0, -2.0]], dtype: .float32)
        let bv = Tensor([0.1, 0.2, 0.3], dtype: .float32)
        let out = g.run([xv, bv])
        #expect(out[0].shape == [4, 3])
        #expect(allClose(out[0], (matmul(xv, w) + bv).tanh()).ok)
        #expect(allClose(out[1], matmul(xv, w)).ok)
        let byName = g.run(feeds: [x: xv, b: bv])
        #expect(allClose(byName[0], out[0]).ok)
    }

    @Test func gradientsFlowThroughRun() throws {
        let w = Tensor([[0.5], [-1.5]], dtype: .float64, requiresGrad: true)
        let x = Graph.placeholder(shape: [-1, 2], dtype: .float64, name: "x")
        let y = try x.matmul(constant: w).sigmoid()
        let g = try Graph(inputs: [x], outputs: [y])
        let xv = Tensor([[1.0, 2.0], [3.0, -1.0]], dtype: .float64)
        g.run([xv])[0].sum().backward()
        let wr = Tensor([[0.5], [-1.5]], dtype: .float64, requiresGrad: true)
        matmul(xv, wr).sigmoid().sum().backward()
        #expect(allClose(w.grad!, wr.grad!).ok)
    }

    /// A callable node that counts its runs (a layer, without NablaKeras).
    final class Counting: GraphCallable, @unchecked Sendable {
        var runs = 0
        var className: String { "Counting" }
        var subgraph: Graph? { nil }
        func invoke(_ inputs: [Tensor]) -> [Tensor] { runs += 1; return [inputs[0] + 1] }
    }

    @Test func onlyNeededNodesRun() throws {
        let x = Graph.placeholder(shape: [-1, 2])
        let used = x.exp()
        let counter = Counting()
        let unused = GraphNode.call(counter, name: "unused", inputs: [x], outputSpecs: [x.spec])
        #expect(counter.runs == 0)   // adding a node runs nothing
        #expect(unused[0].node.op == "Counting" && unused[0].node.owner === counter)
        let g = try Graph(inputs: [x], outputs: [used])
        #expect(g.nodes.count == 1)
        _ = g.run([Tensor.ones([3, 2])])
        #expect(counter.runs == 0)
        let g2 = try Graph(inputs: [x], outputs: [unused[0]])
        #expect(allClose(g2.run([Tensor.ones([3, 2])])[0], Tensor.full([3, 2], 2.0)).ok)
        #expect(counter.runs == 1)
    }

    @Test func opsAreData() throws {
        let x = Graph.placeholder(shape: [-1, 2], name: "x")
        let w = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype: .float32)
        let y = try x.matmul(constant: w).relu()
        let g = try Graph(inputs: [x], outputs: [y])
        #expect(g.nodes.map(\.op) == ["Constant", "matmul", "relu"])
        guard case .op(let k) = g.nodes[2].kind else { Issue.record("relu is not an op node"); return }
        #expect(k == .unary(.relu))
        if case .op(let m) = g.nodes[1].kind { #expect(m == .matmul) } else { Issue.record("matmul is not an op node") }
    }

    @Test func traceHoldsTheOpKindsWithFreeDims() throws {
        let x = Graph.placeholder(shape: [-1, 2], name: "x")
        let w = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype: .float32)
        let h = try x.matmul(constant: w)
        let y = h.tanh()
        let g = try Graph(inputs: [x], outputs: [y])
        let t = g.trace
        #expect(t.graphBreak == nil)
        #expect(t.spans.count == g.nodes.count)
        let kinds = t.graph.nodes.map(\.kind)
        #expect(kinds.contains(.matmul) && kinds.contains(.unary(.tanh)), "\(kinds)")
        let mm = try #require(t.graph.nodes.firstIndex { $0.kind == .matmul })
        // The backend's matmul is batched: its views are [1, *, 2] x [1, 2, 3].
        #expect(t.symbolicShape(t.graph.nodes[mm].writes[0], node: mm).suffix(2) == [-1, 3])
        #expect(t.symbolicShape(t.graph.nodes[mm].reads[1]!, node: mm).suffix(2) == [2, 3])
        #expect(t.outputShapes(ofNode: 1) == [[-1, 3]] && t.outputShapes(ofNode: 2) == [[-1, 3]])
        let text = g.description
        #expect(text.contains("= matmul(%b0[1, *, 2], "), "\(text)")
        #expect(text.contains("tanh(%b"), "\(text)")
        #expect(g.dot().contains("cluster_"))
    }

    @Test func shapeInferenceTracesSymbolicallyAndRunsNoKernel() throws {
        let specs = Graph.inferSpecs([TensorSpec(shape: [-1, 4, 5])]) { [$0[0].flatten(startDim: 1), $0[0].sum(dim: 1)] }
        #expect(specs == [TensorSpec(shape: [-1, 20]), TensorSpec(shape: [-1, 5])])
        #expect(Graph.inferSpecs([TensorSpec(shape: [-1, 3])]) { [$0[0].t()] } == [TensorSpec(shape: [3, -1])])
        #expect(Graph.inferSpecs([TensorSpec(shape: [2, 3], dtype: .int64)]) { [$0[0].to(.float64) * 0.5] } == [TensorSpec(shape: [2, 3], dtype: .float64)])
        // The ops are recorded, not run: `x + 1` on zeros would be ones.
        let m = MetaTrace.trace(MetaTrace.probes([TensorSpec(shape: [-1, 3])], freeSize: 2)) { xs, _ in [(xs[0] + 1).exp()] }
        #expect(m.outputs[0].shape == [2, 3])
        #expect(m.outputs[0].equal(Tensor.zeros([2, 3])))
        #expect(m.graph.nodes.map(\.kind) == [.binaryScalar(.add, scalar: 1, reversed: false), .unary(.exp)])
    }

    @Test func broadcastShapeRuleThrows() throws {
        let a = Graph.placeholder(shape: [-1, 3])
        let b = Graph.placeholder(shape: [-1, 4])
        #expect(throws: ShapeError.self) { try a.add(b) }
        do { _ = try a.add(b); Issue.record("expected a shape error") } catch {
            #expect(error.description == "add: shapes [*, 3] and [*, 4] do not broadcast (dimension -1: 3 vs 4)")
        }
        let c = Graph.placeholder(shape: [3])
        #expect(try a.add(c).shape == [-1, 3])
        let w = Tensor.zeros([5, 2])
        #expect(throws: ShapeError.self) { try a.matmul(constant: w) }
    }

    @Test func missingInputIsAnError() throws {
        let x = Graph.placeholder(shape: [-1, 2], name: "x")
        let z = Graph.placeholder(shape: [-1, 2], name: "z")
        let y = x + z
        do { _ = try Graph(inputs: [x], outputs: [y]); Issue.record("expected a graph error") } catch {
            #expect(error.message.contains("depends on input z"))
        }
        #expect(throws: GraphError.self) { try Graph(inputs: [y], outputs: [y]) }
    }

    @Test func feedShapeIsChecked() async throws {
        await #expect(processExitsWith: .failure) {
            let x = Graph.placeholder(shape: [-1, 2], name: "x")
            let g = try Graph(inputs: [x], outputs: [x.relu()])
            _ = g.run([Tensor.ones([3, 5])])
        }
    }
}
