import Foundation
import Testing
import NablaKeras
import NablaTestSupport

/// The malformed saved architectures a fuzzer found (`Tests/Fixtures/reliability/keras_json`): `modelFromJSON` and
/// `loadModel` throw `ModelSerializationError` naming the layer and the problem; none traps or allocates gigabytes.
@Suite struct KerasReliabilityTests {
    static let files = reliabilityFixtures(in: "keras_json", suffix: ".json")

    @Test func thereAreReproducers() { #expect(Self.files.count >= 21) }

    @Test(arguments: files)
    func malformedArchitectureThrows(path: String) throws {
        let json = try String(contentsOfFile: path, encoding: .utf8)
        let e = #expect(throws: ModelSerializationError.self) { _ = try modelFromJSON(json) }
        #expect(e?.message.isEmpty == false)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-keras-rel-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/model.safetensors"
        try saveSafetensors(StateDict(), to: file, metadata: ["format": "nabla-keras-model", "nabla.keras.model": json])
        #expect(throws: ModelSerializationError.self) { _ = try loadModel(file) }
    }

    @Test func errorsNameTheLayerAndTheValue() throws {
        let json = try String(contentsOfFile: reliabilityFixture("keras_json/dense_units0.json"), encoding: .utf8)
        let e = #expect(throws: ModelSerializationError.self) { _ = try modelFromJSON(json) }
        #expect(e?.message == "layer dense_1 (Dense): config key \"units\" must be a positive integer, got 0")
        let huge = try String(contentsOfFile: reliabilityFixture("keras_json/dense_huge_input.json"), encoding: .utf8)
        let h = #expect(throws: ModelSerializationError.self) { _ = try modelFromJSON(huge) }
        #expect(h?.message.contains("ReaderLimits.maxElements") == true)
    }

    @Test func aFirstLayersInputLengthCannotRebuildForAnotherShape() throws {
        // Saved input [-1, 3]; the Embedding says input_length 7, for which the Reshape would not fit.
        let json = """
        {"format": "nabla-keras-model", "version": 1, "model": {"class_name": "Sequential", "name": "s",
         "inputs": [{"dtype": "int64", "name": "input_1", "shape": [-1, 3]}],
         "layers": [{"class_name": "Embedding", "config": {"input_dim": 10, "output_dim": 4, "input_length": 7}, "name": "e"},
                    {"class_name": "Reshape", "config": {"target_shape": [3, 4]}, "name": "r"}],
         "nodes": [], "outputs": []}}
        """
        #expect(try modelFromJSON(json).outputShape == [-1, 3, 4])
    }

    @Test func validArchitecturesStillLoad() throws {
        let m = Sequential([Conv2D(2, kernelSize: 3, padding: .same), MaxPooling2D(), BatchNormalization(), Flatten(), Dense(3)])
        m.build(inputShape: [6, 6, 1], dtype: .float32)
        let back = try modelFromJSON(try m.toJSON())
        #expect(back.outputShape == [-1, 3])
        let free = Sequential([Conv2D(2, kernelSize: 3), AveragePooling2D(), GlobalAveragePooling2D(), Dense(3)])
        free.build(inputShape: [-1, -1, 1], dtype: .float32)
        #expect(try modelFromJSON(try free.toJSON()).outputShape == [-1, 3])
    }
}
