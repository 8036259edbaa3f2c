import Nabla
import Testing
import NablaServe

@Suite struct PredictRequestTests {
    let one = ModelSignature(inputs: [TensorSignature(name: "x", dtype: .float32, shape: [-1, 2, 2])],
                             outputs: [TensorSignature(name: "y", dtype: .float32, shape: [-1, 3])])
    let two = ModelSignature(inputs: [TensorSignature(name: "a", dtype: .float32, shape: [-1, 2]),
                                      TensorSignature(name: "ids", dtype: .int64, shape: [-1, -1])],
                             outputs: [TensorSignature(name: "y", dtype: .float32, shape: [-1, 1])])

    func decode(_ s: String, _ sig: ModelSignature) throws(ServeError) -> PredictRequest {
        try PredictRequest.decode(Array(s.utf8), signature: sig)
    }

    func error(_ s: String, _ sig: ModelSignature) -> String {
        do { _ = try decode(s, sig); return "accepted" } catch { #expect(error.status == 400); return error.message }
    }

    @Test func rowFormat() throws {
        let r = try decode(#"{"signature_name": "serving_default", "instances": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}"#, one)
        #expect(r.rows == 2 && r.format == .row)
        #expect(r.inputs[0].shape == [2, 2, 2])
        #expect(r.inputs[0].toFloatArray() == [1, 2, 3, 4, 5, 6, 7, 8])
        let named = try decode(#"{"instances": [{"x": [[1, 2], [3, 4]]}]}"#, one)
        #expect(named.inputs[0].shape == [1, 2, 2])
    }

    @Test func columnarFormat() throws {
        let r = try decode(#"{"inputs": [[[1, 2], [3, 4]]]}"#, one)
        #expect(r.rows == 1 && r.format == .columnar && r.inputs[0].shape == [1, 2, 2])
        let m = try decode(#"{"inputs": {"a": [[1, 2], [3, 4]], "ids": [[1, 2, 3], [4, 5, 6]]}}"#, two)
        #expect(m.rows == 2 && m.inputs[1].dtype == .int64 && m.inputs[1].shape == [2, 3])
    }

    @Test func multiInputRows() throws {
        let r = try decode(#"{"instances": [{"a": [1, 2], "ids": [7]}, {"ids": [8], "a": [3, 4]}]}"#, two)
        #expect(r.inputs[0].toFloatArray() == [1, 2, 3, 4])
        #expect(r.inputs[1].toArray(Int64.self) == [7, 8])
    }

    @Test func errorsNameTheProblem() {
        #expect(error(#"{"instances": [[1, 2, 3, 4]]}"#, one).contains("shape [4] does not fit input x"))
        #expect(error(#"{"instances": [[[1, 2], [3]]]}"#, one).contains("ragged"))
        #expect(error(#"{"instances": [[[1, "2"], [3, 4]]]}"#, one).contains("needs numbers, got a string"))
        #expect(error(#"{"instances": []}"#, one).contains("empty"))
        #expect(error(#"{"instance": []}"#, one).contains("unexpected key \"instance\""))
        #expect(error(#"{}"#, one).contains("missing \"instances\" or \"inputs\""))
        #expect(error(#"[1]"#, one).contains("must be a JSON object"))
        #expect(error(#"{"instances": [1], "inputs": [1]}"#, one).contains("both"))
        #expect(error(#"{"instances": [{"a": [1, 2]}]}"#, two).contains("missing input \"ids\""))
        #expect(error(#"{"instances": [{"a": [1, 2], "ids": [1.5]}]}"#, two).contains("needs integers"))
        #expect(error(#"{"instances": [[1, 2]]}"#, two).contains("must be an object naming them"))
        #expect(error(#"{"inputs": {"a": [[1, 2]], "ids": [[1], [2]]}}"#, two).contains("same batch size"))
        #expect(error(#"{"signature_name": "other", "instances": [1]}"#, one).contains("not found in signature def"))
        #expect(error(#"{"instances": [[[1e300, 2], [3, 4]]]}"#, one).contains("does not fit"))
        #expect(error(#"{"instances": [[[1, 2], [3, 4]]], "instances": [[[1, 2], [3, 4]]]}"#, one).contains("duplicate key"))
    }
}
