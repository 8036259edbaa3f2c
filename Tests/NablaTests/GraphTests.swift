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

    @Test func onlyNeededNodesRun() throws {
        let x = Graph.placeholder(shape: [-1, 2])
        let used = x.exp()
        final class Counter: @unchecked Sendable { var runs = 0 }
        let counter = Counter()
        _ = x.apply("unused") { counter.runs += 1; return $0 }
        let probes = counter.runs   // shape inference ran it on small examples
        let g = try Graph(inputs: [x], outputs: [used])
        #expect(g.nodes.count == 1)
        _ = g.run([Tensor.ones([3, 2])])
        #expect(counter.runs == probes)
    }

    @Test func shapeInferenceByExampleKeepsBatchFree() throws {
        let x = Graph.placeholder(shape: [-1, 4, 5])
        let y = x.apply("flatten") { $0.flatten(startDim: 1) }
        #expect(y.shape == [-1, 20])
        let z = x.apply("sum1") { $0.sum(dim: 1) }
        #expect(z.shape == [-1, 5])
        let specs = Graph.inferSpecs([TensorSpec(shape: [-1, 3])]) { [$0[0].t()] }
        #expect(specs == [TensorSpec(shape: [3, -1])])
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
