import Testing
import NablaServe

@Suite struct ServeRouteTests {
    @Test func parsesTFServingPaths() throws {
        #expect(try ServeRoute.parse("/v1/models/mnist") == .status(model: "mnist", version: nil))
        #expect(try ServeRoute.parse("/v1/models/mnist/versions/3") == .status(model: "mnist", version: 3))
        #expect(try ServeRoute.parse("/v1/models/mnist/metadata") == .metadata(model: "mnist", version: nil))
        #expect(try ServeRoute.parse("/v1/models/mnist/versions/2/metadata") == .metadata(model: "mnist", version: 2))
        #expect(try ServeRoute.parse("/v1/models/mnist:predict") == .infer(model: "mnist", version: nil, verb: "predict"))
        #expect(try ServeRoute.parse("/v1/models/m.v-2_x/versions/7:classify") == .infer(model: "m.v-2_x", version: 7, verb: "classify"))
        #expect(try ServeRoute.parse("/metrics") == .metrics)
        #expect(try ServeRoute.parse("/healthz") == .health)
    }

    @Test(arguments: ["/v1/models/..", "/v1/models/../etc", "/v1/models/%2e%2e:predict", "/v1/models/a/b", "/v1/models/",
                      "/v1/models/m/versions/x", "/v1/models/m/versions/-1", "/v1/models/m/versions/1/extra", "/etc/passwd",
                      "/v1/models/" + String(repeating: "a", count: 200)])
    func refusesOtherPaths(_ path: String) {
        #expect(throws: ServeError.self) { try ServeRoute.parse(path) }
    }

    @Test func validatesNames() {
        #expect(ServeRoute.isValidName("fashion_cnn-1.2"))
        for bad in ["", ".", "..", "a/b", "a b", "é", String(repeating: "x", count: 129)] { #expect(!ServeRoute.isValidName(bad), "\(bad)") }
    }
}
