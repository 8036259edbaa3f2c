import Nabla

/// A decoded `:predict` or `:classify` body, checked against the model's signature: one tensor per input, with the
/// same number of rows (samples) in each.
///
/// Accepted, as TF Serving accepts them:
/// - the row format `{"instances": [s1, s2, ...]}`, each sample a (nested) list of numbers for a one-input model, or an
///   object `{"input_name": value, ...}` naming every input;
/// - the columnar format `{"inputs": value}` (one input, batch first) or `{"inputs": {"input_name": value, ...}}`;
/// - `"signature_name"`: absent, `""` or `"serving_default"`; for `:classify`, `"examples"` as a synonym of `"instances"`.
public struct PredictRequest: Sendable {
    /// Which format the request used (the response uses the same).
    public enum Format: Sendable { case row, columnar }

    /// One tensor per signature input, batch first.
    public let inputs: [Tensor]
    /// The number of samples.
    public let rows: Int
    /// The request's format.
    public let format: Format

    /// Decodes and checks a body.
    /// - Parameters:
    ///   - body: the request body.
    ///   - signature: the model's signature.
    ///   - maxDepth: the deepest JSON nesting accepted.
    ///   - allowExamples: accept `"examples"` (`:classify`).
    /// - Throws: `ServeError` (400) naming the problem: not JSON, missing or unknown key, wrong type, wrong shape,
    ///   wrong dtype, a number that does not fit the dtype.
    public static func decode(_ body: [UInt8], signature: ModelSignature, maxDepth: Int = 32, allowExamples: Bool = false) throws(ServeError) -> PredictRequest {
        let json = try JSONValue.parseRequestBody(body, maxDepth: maxDepth)
        guard case .object(let entries) = json else {
            throw .badRequest("the body must be a JSON object with \"instances\" or \"inputs\", got a JSON \(json.kind)")
        }
        var rowsValue: JSONValue?, columnar: JSONValue?
        for (key, value) in entries {
            switch key {
            case "signature_name":
                guard case .string(let s) = value else { throw .badRequest("\"signature_name\" must be a string, got a \(value.kind)") }
                guard s.isEmpty || s == "serving_default" else {
                    throw .badRequest("serving signature name: \"\(s)\" not found in signature def; the model has \"serving_default\" only")
                }
            case "instances": rowsValue = value
            case "examples" where allowExamples: rowsValue = value
            case "inputs": columnar = value
            default:
                throw .badRequest("unexpected key \"\(key)\" in the request; expected \"instances\" (row format) or \"inputs\" (columnar format)"
                    + " and optionally \"signature_name\"")
            }
        }
        switch (rowsValue, columnar) {
        case (nil, nil): throw .badRequest("missing \"instances\" or \"inputs\" in the request")
        case (.some, .some): throw .badRequest("the request has both \"instances\" and \"inputs\"; use one format")
        case (.some(let v), nil): return try decodeRows(v, signature)
        case (nil, .some(let v)): return try decodeColumns(v, signature)
        }
    }

    private static func decodeRows(_ value: JSONValue, _ sig: ModelSignature) throws(ServeError) -> PredictRequest {
        guard case .array(let instances) = value else { throw .badRequest("\"instances\" must be a list of samples, got a \(value.kind)") }
        guard !instances.isEmpty else { throw .badRequest("\"instances\" is empty; send at least one sample") }
        var builders = sig.inputs.map { TensorBuilder(spec: $0, rows: instances.count) }
        for (k, inst) in instances.enumerated() {
            if case .object(let named) = inst {
                try checkNames(named.map(\.0), sig, where: "instances[\(k)]")
                for j in sig.inputs.indices {
                    try builders[j].addSample(named.first { $0.0 == sig.inputs[j].name }!.1, where: "instances[\(k)][\"\(sig.inputs[j].name)\"]")
                }
            } else {
                guard sig.inputs.count == 1 else {
                    throw .badRequest("instances[\(k)]: the model has \(sig.inputs.count) inputs (\(sig.inputs.map(\.name).joined(separator: ", "))); "
                        + "each instance must be an object naming them")
                }
                try builders[0].addSample(inst, where: "instances[\(k)]")
            }
        }
        return PredictRequest(inputs: builders.map { $0.tensor() }, rows: instances.count, format: .row)
    }

    private static func decodeColumns(_ value: JSONValue, _ sig: ModelSignature) throws(ServeError) -> PredictRequest {
        var values: [(String, JSONValue)]
        if case .object(let named) = value {
            try checkNames(named.map(\.0), sig, where: "\"inputs\"")
            values = sig.inputs.map { s in (s.name, named.first { $0.0 == s.name }!.1) }
        } else {
            guard sig.inputs.count == 1 else {
                throw .badRequest("\"inputs\": the model has \(sig.inputs.count) inputs (\(sig.inputs.map(\.name).joined(separator: ", "))); "
                    + "\"inputs\" must be an object naming them")
            }
            values = [(sig.inputs[0].name, value)]
        }
        var tensors: [Tensor] = [], rows = -1
        for (j, (name, v)) in values.enumerated() {
            guard case .array(let samples) = v else {
                throw .badRequest("\"inputs\"[\"\(name)\"] must be a list with the batch first (shape \(sig.inputs[j].shape)), got a \(v.kind)")
            }
            guard !samples.isEmpty else { throw .badRequest("\"inputs\"[\"\(name)\"] is empty; send at least one sample") }
            if rows >= 0 && samples.count != rows {
                throw .badRequest("\"inputs\": input \(name) has \(samples.count) samples, input \(values[0].0) has \(rows); all inputs need the same batch size")
            }
            rows = samples.count
            var b = TensorBuilder(spec: sig.inputs[j], rows: samples.count)
            for (k, s) in samples.enumerated() { try b.addSample(s, where: "\"inputs\"[\"\(name)\"][\(k)]") }
            tensors.append(b.tensor())
        }
        return PredictRequest(inputs: tensors, rows: rows, format: .columnar)
    }

    private static func checkNames(_ names: [String], _ sig: ModelSignature, where place: String) throws(ServeError) {
        let expected = sig.inputs.map(\.name)
        for n in names where !expected.contains(n) {
            throw .badRequest("\(place): unknown input \"\(n)\"; the model's inputs are \(expected.joined(separator: ", "))")
        }
        for n in expected where !names.contains(n) {
            throw .badRequest("\(place): missing input \"\(n)\"; the model's inputs are \(expected.joined(separator: ", "))")
        }
    }
}

/// Flattens samples of one input into a buffer, checking each sample's shape and element type against the signature.
struct TensorBuilder {
    let spec: TensorSignature
    /// The sample shape (batch excluded) fixed by the first sample where the signature leaves sizes free.
    var sampleShape: [Int]?
    var floats: [Float] = []
    var ints: [Int64] = []
    var rows = 0

    init(spec: TensorSignature, rows: Int) {
        self.spec = spec
        let n = spec.shape.dropFirst().reduce(1) { $0 * max($1, 1) }
        if spec.dtype.isFloatingPoint { floats.reserveCapacity(n * rows) } else { ints.reserveCapacity(n * rows) }
    }

    private var expected: [Int] { Array(spec.shape.dropFirst()) }

    private func describe(_ s: [Int]) -> String { "[" + s.map { $0 < 0 ? "*" : String($0) }.joined(separator: ", ") + "]" }

    /// Adds one sample (a nested list, or a number for a scalar input).
    mutating func addSample(_ value: JSONValue, where place: String) throws(ServeError) {
        var shape: [Int] = []
        var v = value
        while case .array(let a) = v {
            shape.append(a.count)
            guard let first = a.first else { break }
            v = first
        }
        guard shape.count == expected.count, zip(shape, expected).allSatisfy({ $0 == $1 || ($1 < 0 && $0 > 0) }) else {
            throw .badRequest("\(place): a sample of shape \(describe(shape)) does not fit input \(spec.name), whose samples have shape "
                + "\(describe(expected)) (the input's shape is \(describe(spec.shape)) with the batch first)")
        }
        if let s = sampleShape, s != shape {
            throw .badRequest("\(place): a sample of shape \(describe(shape)) differs from the first sample's \(describe(s)) for input \(spec.name)")
        }
        sampleShape = shape
        try flatten(value, dim: 0, shape: shape, place: place)
        rows += 1
    }

    private mutating func flatten(_ value: JSONValue, dim: Int, shape: [Int], place: String) throws(ServeError) {
        if dim == shape.count {
            guard let d = value.doubleValue else {
                throw .badRequest("\(place): input \(spec.name) has dtype \(spec.dtype) and needs numbers, got a \(value.kind)"
                    + (value.kind == "array" ? " (the sample is nested deeper than its shape \(describe(expected)))" : ""))
            }
            if spec.dtype.isFloatingPoint {
                guard spec.dtype == .float64 || abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                    throw .badRequest("\(place): \(d) does not fit input \(spec.name)'s dtype \(spec.dtype)")
                }
                floats.append(Float(d))
            } else {
                // Integer literals are exact (int64 ids above 2^53 included); a number with a fraction or an exponent
                // must be a whole number that a Double holds exactly.
                let k: Int64
                if case .int(let v) = value {
                    k = Int64(v)
                } else {
                    guard d == d.rounded(), abs(d) <= 9.007_199_254_740_992e15 else {
                        throw .badRequest("\(place): input \(spec.name) has dtype \(spec.dtype) and needs integers, got \(d)")
                    }
                    k = Int64(d)
                }
                guard spec.dtype != .int32 || Int32(exactly: k) != nil else {
                    throw .badRequest("\(place): \(k) does not fit input \(spec.name)'s dtype int32")
                }
                if spec.dtype == .bool, k != 0 && k != 1 {
                    throw .badRequest("\(place): input \(spec.name) has dtype bool and needs 0 or 1, got \(k)")
                }
                ints.append(k)
            }
            return
        }
        guard case .array(let items) = value else {
            throw .badRequest("\(place): expected a list of \(shape[dim]) at depth \(dim + 1) for input \(spec.name), got a \(value.kind) (ragged or mis-shaped sample)")
        }
        guard items.count == shape[dim] else {
            throw .badRequest("\(place): a list of \(items.count) where \(shape[dim]) were expected at depth \(dim + 1) (ragged sample) for input \(spec.name)")
        }
        for item in items { try flatten(item, dim: dim + 1, shape: shape, place: place) }
    }

    /// The tensor of every sample added, batch first, in the signature's dtype.
    func tensor() -> Tensor {
        let shape = [rows] + (sampleShape ?? expected)
        if spec.dtype.isFloatingPoint {
            let t = Tensor(shape: shape, data: floats)
            return spec.dtype == .float32 ? t : t.to(spec.dtype)
        }
        let t = Tensor(shape: shape, data: ints)
        return spec.dtype == .int64 ? t : t.to(spec.dtype)
    }
}
