import Foundation
import Nabla
import NablaKeras
import NablaServe
import Testing

/// Token ids outside the model's Embedding vocabulary are a 400 naming the input, never a stopped server.
@Suite struct VocabularyTests {
    @Test(.timeLimit(.minutes(1))) func outOfRangeTokenIdsAreRejected() async throws {
        let base = TestServer.makeBase()
        let ids = Input(shape: [3], dtype: .int64, name: "ids")
        let y = Dense(2, name: "out")(Flatten(name: "flat")(Embedding(10, 4, name: "emb")(ids)))
        try TestModels.save(NablaKeras.Model(inputs: ids, outputs: y, name: "tok"), base: base, version: 1)
        let s = try await TestServer.start(base: base)
        let bad = try await s.client.post("/v1/models/m:predict", #"{"instances": [[1, 2, 99]]}"#)
        #expect(bad.status == 400 && bad.text.contains("ids") && bad.text.contains("[0, 10)"), "\(bad.text)")
        let negative = try await s.client.post("/v1/models/m:predict", #"{"instances": [[-1, 2, 3]]}"#)
        #expect(negative.status == 400, "\(negative.text)")
        let good = try await s.client.post("/v1/models/m:predict", #"{"instances": [[1, 2, 9]]}"#)
        #expect(good.status == 200, "\(good.text)")
        try await s.stop()
    }
}
