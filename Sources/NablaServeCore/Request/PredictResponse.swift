import Foundation
import Nabla

/// Writes the JSON answers of `:predict` and `:classify` as TF Serving does.
public enum PredictResponse {
    /// `{"predictions": [...]}` (row format: one entry per sample; an object of named outputs when there are several)
    /// or `{"outputs": ...}` (columnar: the whole batch per output).
    public static func predict(_ outputs: [Tensor], signature: ModelSignature, format: PredictRequest.Format) -> [UInt8] {
        let values = outputs.map { $0.dtype.isFloatingPoint ? Values.floats($0.contiguous().toFloatArray()) : Values.ints($0.contiguous().toArray(Int64.self)) }
        let shapes = outputs.map(\.shape)
        let total = values.reduce(0) { $0 + $1.count }
        var w = JSONWriter(capacity: 32 + total * 12)
        switch format {
        case .row:
            w.raw("{\"predictions\": [")
            let rows = shapes.first?.first ?? 0
            for r in 0..<rows {
                if r > 0 { w.raw(", ") }
                if outputs.count == 1 {
                    writeRow(&w, values[0], shapes[0], row: r)
                } else {
                    w.raw("{")
                    for k in outputs.indices {
                        if k > 0 { w.raw(", ") }
                        w.string(signature.outputs[k].name); w.raw(": ")
                        writeRow(&w, values[k], shapes[k], row: r)
                    }
                    w.raw("}")
                }
            }
            w.raw("]}")
        case .columnar:
            w.raw("{\"outputs\": ")
            if outputs.count == 1 {
                writeNested(&w, values[0], shapes[0], dim: 0, offset: 0)
            } else {
                w.raw("{")
                for k in outputs.indices {
                    if k > 0 { w.raw(", ") }
                    w.string(signature.outputs[k].name); w.raw(": ")
                    writeNested(&w, values[k], shapes[k], dim: 0, offset: 0)
                }
                w.raw("}")
            }
            w.raw("}")
        }
        return w.bytes
    }

    /// `{"result": [[["0", score], ["1", score], ...], ...]}`: per sample, each class index (as a string label) with
    /// its score, from the first output `[N, classes]`; logits are turned into probabilities with softmax, outputs that
    /// already are probabilities (non-negative, summing to 1) are kept.
    public static func classify(_ output: Tensor) throws(ServeError) -> [UInt8] {
        guard output.rank == 2, output.dtype.isFloatingPoint else {
            throw ServeError.badRequest(":classify needs a model whose first output is [batch, classes] scores; this one gives shape "
                + "\(output.shape.dropFirst().map(String.init)) per sample (dtype \(output.dtype)); use :predict")
        }
        let n = output.shape[0], c = output.shape[1]
        var values = output.contiguous().toFloatArray()
        for r in 0..<n {
            let row = values[r * c..<(r + 1) * c]
            let sum = row.reduce(0, +)
            if row.allSatisfy({ $0 >= 0 }) && abs(sum - 1) < 1e-3 { continue }
            let m = row.max() ?? 0
            var total: Float = 0
            for k in row.indices { values[k] = expf(values[k] - m); total += values[k] }
            for k in row.indices { values[k] /= total }
        }
        var w = JSONWriter(capacity: 32 + n * c * 16)
        w.raw("{\"result\": [")
        for r in 0..<n {
            w.raw(r > 0 ? ", [" : "[")
            for k in 0..<c {
                if k > 0 { w.raw(", ") }
                w.raw("[\"\(k)\", "); w.number(values[r * c + k]); w.raw("]")
            }
            w.raw("]")
        }
        w.raw("]}")
        return w.bytes
    }

    enum Values {
        case floats([Float]), ints([Int64])
        var count: Int { switch self { case .floats(let v): return v.count; case .ints(let v): return v.count } }
        func write(_ w: inout JSONWriter, _ i: Int) {
            switch self { case .floats(let v): w.number(v[i]); case .ints(let v): w.number(v[i]) }
        }
    }

    private static func writeRow(_ w: inout JSONWriter, _ v: Values, _ shape: [Int], row: Int) {
        let per = shape.dropFirst().reduce(1, *)
        writeNested(&w, v, Array(shape.dropFirst()), dim: 0, offset: row * per)
    }

    private static func writeNested(_ w: inout JSONWriter, _ v: Values, _ shape: [Int], dim: Int, offset: Int) {
        if dim == shape.count { v.write(&w, offset); return }
        let stride = shape[(dim + 1)...].reduce(1, *)
        w.raw("[")
        for k in 0..<shape[dim] {
            if k > 0 { w.raw(", ") }
            writeNested(&w, v, shape, dim: dim + 1, offset: offset + k * stride)
        }
        w.raw("]")
    }
}
