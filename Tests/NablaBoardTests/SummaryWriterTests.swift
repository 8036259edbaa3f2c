import Foundation
import Nabla
import NablaBoard
import Testing
import NablaTestSupport

/// Writes event files with `SummaryWriter` and reads them back, in Swift (framing) and with TensorBoard itself
/// (`Scripts/read_tfevents.py` in the venv that `make venv` creates).
@Suite struct SummaryWriterTests {
    static func temporaryLogDir() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nablaboard-\(UUID().uuidString)").path
    }

    @Test func fileNameAndFraming() throws {
        let dir = Self.temporaryLogDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try SummaryWriter(logDir: dir, filenameSuffix: ".v2")
        writer.addScalar("a", 1, step: 0)
        writer.addScalar("a", 2, step: 1)
        try writer.flush()
        let name = (writer.filePath as NSString).lastPathComponent
        #expect(name.hasPrefix("events.out.tfevents."))
        let parts = name.split(separator: ".")  // events.out.tfevents.<time>.<host>.<pid>.<n>.v2; the host may hold dots
        #expect(parts.last == "v2" && Int(parts[parts.count - 2]) != nil && Int(parts[3]) != nil)
        #expect(parts[parts.count - 3] == "\(ProcessInfo.processInfo.processIdentifier)")
        #expect(writer.filePath.hasPrefix(dir))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.filePath)))
        let records = try TFRecord.decode(bytes)
        #expect(records.count == 3)
        let first = String(decoding: records[0], as: UTF8.self)
        #expect(first.contains("brain.Event:2"))
        // Appending, never rewriting: the bytes written so far stay a prefix.
        writer.addScalar("a", 3, step: 2)
        try writer.close()
        let after = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.filePath)))
        #expect(Array(after.prefix(bytes.count)) == bytes)
        #expect(try TFRecord.decode(after).count == 4)
        writer.addScalar("a", 4, step: 3)  // ignored after close
        try writer.close()
        #expect(try TFRecord.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.filePath)))).count == 4)
    }

    @Test func concurrentWritesAreWholeRecords() throws {
        let dir = Self.temporaryLogDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try SummaryWriter(logDir: dir)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<50 { writer.addScalar("thread\(thread)", Double(i), step: i) }
        }
        try writer.close()
        let records = try TFRecord.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.filePath))))
        #expect(records.count == 1 + 8 * 50)
    }

    @Test func pngEncoderRejectsBadSizes() {
        #expect(throws: PNGError.unsupportedChannels(5)) { try PNG.encode(pixels: [], width: 1, height: 1, channels: 5) }
        #expect(throws: PNGError.sizeMismatch(expected: 3, got: 2)) { try PNG.encode(pixels: [1, 2], width: 1, height: 1, channels: 3) }
        let png = try? PNG.encode(pixels: [255, 0, 0], width: 1, height: 1, channels: 3)
        #expect(png.map { Array($0.prefix(8)) } == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test func tensorBoardReadsEverything() throws {
        let dir = Self.temporaryLogDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try SummaryWriter(logDir: dir)
        let losses = [0.1, 1.0 / 3.0, 2.5e-7, -4.75, 12345.678]
        for (step, loss) in losses.enumerated() { writer.addScalar("loss/train", loss, step: step, wallTime: 1000 + Double(step)) }
        writer.addScalar("loss/tensor", Tensor([0.625]), step: 7)
        writer.addScalars("lr", ["base": 0.5, "head": 0.25], step: 3)
        writer.addHistogram("weights", Tensor(shape: [10], data: (0..<10).map { Double($0) }), step: 1, bins: .uniform(3))
        let noise = Tensor.randn([200], generator: Generator(seed: 3))
        writer.addHistogram("noise", noise, step: 2)
        // A 3×2×4 CHW RGB image in [0, 1] and a 3×5 gray image of bytes.
        let rgb = Tensor.arange(0, 24, dtype: .float32).reshape([3, 2, 4]) / 23
        writer.addImage("images/rgb", rgb, step: 4)
        writer.addImage("images/gray", (Tensor.arange(0, 15) * 17).to(.int64).reshape([3, 5]), step: 5, dataFormat: .hw)
        writer.addText("notes", "hello **world** ✓", step: 6)
        writer.addHparams(["lr": 0.01, "optimizer": "adam", "nesterov": true, "layers": 3],
                          metrics: ["accuracy": 0.875], runName: "hp")
        writer.addGraph(GraphDescription(nodes: [
            GraphNodeDescription(name: "input", op: "Placeholder", outputShapes: [[1, 4]], dtype: .float32),
            GraphNodeDescription(name: "fc/MatMul", op: "MatMul", inputs: ["input"], outputShapes: [[1, 2]],
                                 attributes: ["in_features": .int(4), "bias": .bool(true), "kernel": .ints([1, 1])]),
            GraphNodeDescription(name: "output", op: "Softmax", inputs: ["fc/MatMul"], outputShapes: [[1, 2]]),
        ]))
        try writer.close()

        let runs = try readWithTensorBoard(dir)
        #expect(Set(runs.keys) == [".", "lr_base", "lr_head", "hp"])
        let main = try #require(runs["."] as? [String: Any])

        let scalars = try #require(main["scalars"] as? [String: [[Double]]])
        #expect(scalars["loss/train"]?.map { $0[0] } == [0, 1, 2, 3, 4])
        #expect(scalars["loss/train"]?.map { UInt32($0[2]) } == losses.map { Float($0).bitPattern })
        #expect(scalars["loss/tensor"]?.map { $0.prefix(2) } == [[7, 0.625]])
        #expect(((runs["lr_base"] as? [String: Any])?["scalars"] as? [String: [[Double]]])?["lr"]?.map { $0.prefix(2) } == [[3, 0.5]])
        #expect(((runs["lr_head"] as? [String: Any])?["scalars"] as? [String: [[Double]]])?["lr"]?.map { $0.prefix(2) } == [[3, 0.25]])

        let histograms = try #require(main["histograms"] as? [String: [[String: Any]]])
        let weights = try #require(histograms["weights"]?.first)
        #expect(weights["bucket"] as? [Double] == [0, 3, 3, 4])
        #expect(weights["bucket_limit"] as? [Double] == [0, 3, 6, 9])
        #expect(weights["min"] as? Double == 0)
        #expect(weights["max"] as? Double == 9)
        #expect(weights["num"] as? Double == 10)
        #expect(weights["sum"] as? Double == 45)
        #expect(weights["sum_squares"] as? Double == 285)
        let noiseHist = try #require(histograms["noise"]?.first)
        #expect((noiseHist["bucket"] as? [Double])?.reduce(0, +) == 200)
        #expect(noiseHist["min"] as? Double == noise.min().item())
        #expect(noiseHist["max"] as? Double == noise.max().item())

        let images = try #require(main["images"] as? [String: [[String: Any]]])
        let image = try #require(images["images/rgb"]?.first)
        #expect(image["width"] as? Int == 4 && image["height"] as? Int == 2)
        #expect(image["decoded_width"] as? Int == 4 && image["decoded_height"] as? Int == 2)
        #expect(image["mode"] as? String == "RGB")
        let rgbValues = rgb.toDoubleArray()  // CHW; PNG pixels are HWC, truncated after scaling by 255
        let expectedRGB = (0..<8).map { p in (0..<3).map { c in Int(rgbValues[c * 8 + p] * 255) } }
        #expect(image["pixels"] as? [[Int]] == expectedRGB)
        let gray = try #require(images["images/gray"]?.first)
        #expect(gray["mode"] as? String == "L")
        #expect(gray["decoded_width"] as? Int == 5 && gray["decoded_height"] as? Int == 3)
        #expect(gray["pixels"] as? [[Int]] == (0..<15).map { [$0 * 17] })

        let texts = try #require(main["texts"] as? [String: [[Any]]])
        #expect(texts["notes/text_summary"]?.first?[1] as? String == "hello **world** ✓")

        let graph = try #require(main["graph"] as? [[String: Any]])
        #expect(graph.compactMap { $0["name"] as? String } == ["input", "fc/MatMul", "output"])
        #expect(graph.compactMap { $0["op"] as? String } == ["Placeholder", "MatMul", "Softmax"])
        #expect(graph[1]["input"] as? [String] == ["input"])
        #expect(graph[1]["attr"] as? [String] == ["_output_shapes", "bias", "in_features", "kernel"])
        #expect(graph[0]["attr"] as? [String] == ["_output_shapes", "dtype"])

        let hp = try #require(runs["hp"] as? [String: Any])
        let hparams = try #require(hp["hparams"] as? [String: [String: Any]])
        #expect(hparams["experiment"]?["hparams"] as? [String] == ["layers", "lr", "nesterov", "optimizer"])
        #expect(hparams["experiment"]?["metrics"] as? [String] == ["accuracy"])
        let start = try #require(hparams["session_start_info"])
        #expect(start["lr"] as? Double == 0.01)
        #expect(start["layers"] as? Double == 3)
        #expect(start["optimizer"] as? String == "adam")
        #expect(start["nesterov"] as? Bool == true)
        #expect(hparams["session_end_info"]?["status"] as? Int == 1)
        #expect((hp["scalars"] as? [String: [[Double]]])?["accuracy"]?.map { $0.prefix(2) } == [[0, 0.875]])
    }
}
