import NablaCLI
import NablaTestSupport
import Testing

/// Config layer kinds live in the `NamedRegistry` that Keras' `LayerRegistry` uses too, so programs can add kinds.
@Suite struct CLILayerRegistryTests {
    @Test func registeredKindBuildsFromAConfig() throws {
        LayerSpec.register("test_identity") { spec, input in
            _ = try spec.argument("times", main: true)?.positiveInt()
            return (Identity(), input)
        }
        #expect(LayerSpec.kinds.contains("test_identity") && LayerSpec.kinds.contains("conv2d"))
        let config = try TrainConfig(text: """
        data: {dataset: mnist, root: data}
        model: {input: [8], layers: [{linear: 4}, {test_identity: 2}, {linear: 10}]}
        solver: {epochs: 1}
        """, path: "custom.yaml")
        let built = try BuiltModel(config.model)
        #expect(built.outputShape == [10])
    }
}
