extension Tensor: CustomStringConvertible {
    /// PyTorch-style printing: `tensor([[1., 2.], [3., 4.]], requiresGrad: true)`, summarised when large.
    public var description: String {
        let values = toDoubleArray()
        let isFloat = dtype.isFloatingPoint
        let allIntegral = values.allSatisfy { $0.isFinite && $0 == $0.rounded() }
        func fmt(_ v: Double) -> String {
            switch dtype {
            case .bool: return v != 0 ? "True" : "False"
            case .int32, .int64: return String(Int64(v))
            default:
                if v.isNaN { return "nan" }
                if v.isInfinite { return v > 0 ? "inf" : "-inf" }
                if allIntegral && Swift.abs(v) < 1e8 { return String(Int64(v)) + "." }
                let a = Swift.abs(v)
                if a != 0 && (a >= 1e8 || a < 1e-4) {
                    return String(format: "%.4e", v)
                }
                return String(format: "%.4f", v)
            }
        }
        let summarise = values.count > 1000
        var body = ""
        func render(_ dim: Int, _ base: Int, _ indent: String) -> String {
            if shape.isEmpty { return fmt(values[0]) }
            let n = shape[dim]
            let stride = shape[(dim + 1)...].reduce(1, *)
            var parts: [String] = []
            let showAll = !summarise || n <= 6
            let idx: [Int?] = showAll ? Array(0..<n) : [0, 1, 2, nil, n - 3, n - 2, n - 1]
            for i in idx {
                guard let i else { parts.append("..."); continue }
                if dim == shape.count - 1 { parts.append(fmt(values[base + i])) }
                else { parts.append(render(dim + 1, base + i * stride, indent + " ")) }
            }
            let sep = dim == shape.count - 1 ? ", " : ",\n" + String(repeating: "\n", count: max(0, shape.count - dim - 2)) + indent + " "
            return "[" + parts.joined(separator: sep) + "]"
        }
        body = shape.contains(0) ? "[]" : render(0, 0, "       ")
        var extras: [String] = []
        if shape.contains(0) && shape.count > 1 { extras.append("size: \(shape)") }
        if !(dtype == .float32 || dtype == .int64 || dtype == .bool) || (isFloat && values.isEmpty && dtype != .float32) {
            extras.append("dtype: \(dtype)")
        }
        if device != .cpu { extras.append("device: \(device)") }
        if let fn = gradFn { extras.append("gradFn: <\(fn.name)>") } else if requiresGradFlag { extras.append("requiresGrad: true") }
        return "tensor(" + body + (extras.isEmpty ? "" : ", " + extras.joined(separator: ", ")) + ")"
    }
}

#if canImport(Foundation)
import Foundation
#endif
