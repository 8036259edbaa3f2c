import Foundation
import Nabla
import NablaBoard
import Testing
import NablaTestSupport

/// A compiled graph (`compile`) shown in TensorBoard's Graphs tab: TensorBoard reads back one node per graph node,
/// wired to the nodes that wrote the buffers it reads.
@Suite struct CompiledGraphTests {
    @Test func tensorBoardReadsACompiledGraph() throws {
        let w = Tensor.randn([4, 3])
        // A reduction between the product and the ReLU keeps three nodes (a ReLU right after the product would run
        // inside it as a GEMM epilogue).
        let f = compile { (x: Tensor) -> Tensor in x.matmul(w).sum(dims: [1]).relu() }
        let x = Tensor.randn([2, 4])
        _ = f(x); _ = f(x)
        let graph = try #require(f.graph)
        let description = GraphDescription(graph)
        #expect(description.nodes.filter { $0.op == "Placeholder" }.count == 1)
        #expect(description.nodes.filter { $0.op == "Variable" }.count == 1)   // w
        let dir = SummaryWriterTests.temporaryLogDir()
        let writer = try SummaryWriter(logDir: dir)
        writer.addGraph(graph)
        try writer.close()
        let runs = try readWithTensorBoard(dir)
        let main = try #require(runs["."] as? [String: Any])
        let nodes = try #require(main["graph"] as? [[String: Any]])
        let ops = nodes.compactMap { $0["op"] as? String }
        #expect(ops.contains("matmul") && ops.contains("relu") && ops.contains("sum"), "\(ops)")
        let relu = try #require(nodes.first { $0["op"] as? String == "relu" })
        let sumName = try #require(nodes.first { ($0["op"] as? String)?.hasPrefix("sum") == true }?["name"] as? String)
        #expect(relu["input"] as? [String] == [sumName], "\(relu)")
    }
}
