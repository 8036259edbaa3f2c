#if canImport(Foundation)
import Foundation
#endif

extension Tensor: CustomStringConvertible {
    /// PyTorch-style printing: `tensor([[1., 2.],\n        [3., 4.]], requiresGrad: true)`.
    ///
    /// Follows `torch._tensor_str`: one formatter for all printed elements (integer mode, fixed
    /// `%.4f` or scientific `%.4e`, chosen from the non-zero finite values), elements right-aligned
    /// to a common width, rows wrapped at 80 columns, and tensors over 1000 elements summarised
    /// with `...` (3 edge items). Non-default dtypes, the device and the autograd state follow.
    public var description: String {
        let summarise = count > 1000
        let h = hostContiguous()
        let values = h.toDoubleArray()
        let fmt = ElementFormatter(dtype: dtype, values: summarise ? Tensor.edgeValues(values, shape: shape) : values)
        let body: String
        if count == 0 {
            body = "[]"
        } else if shape.isEmpty {
            body = fmt.format(values[0])
        } else {
            body = Tensor.render(values, shape: shape, dim: 0, base: 0, indent: 7, summarise: summarise, fmt: fmt)
        }
        var extras: [String] = []
        if count == 0 {
            if rank != 1 { extras.append("size: \(shape)") }
            if dtype != .float32 { extras.append("dtype: \(dtype)") }
        } else if !(dtype == .float32 || dtype == .int64 || dtype == .bool) {
            extras.append("dtype: \(dtype)")
        }
        if device != .cpu { extras.append("device: \(device)") }
        if let fn = gradFn { extras.append("gradFn: <\(fn.name)>") } else if requiresGradFlag { extras.append("requiresGrad: true") }
        return "tensor(" + body + (extras.isEmpty ? "" : ", " + extras.joined(separator: ", ")) + ")"
    }

    /// The elements a summarised print shows (3 edge items per dim), for choosing the format.
    private static func edgeValues(_ values: [Double], shape: [Int]) -> [Double] {
        var out: [Double] = []
        func walk(_ dim: Int, _ base: Int) {
            let n = shape[dim]
            let stride = shape[(dim + 1)...].reduce(1, *)
            let idx = n > 6 ? [0, 1, 2, n - 3, n - 2, n - 1] : Array(0..<n)
            for i in idx {
                if dim == shape.count - 1 { out.append(values[base + i]) } else { walk(dim + 1, base + i * stride) }
            }
        }
        if !shape.isEmpty { walk(0, 0) }
        return out
    }

    /// `_tensor_str_with_formatter`: nested brackets, rows joined by `,\n` plus blank lines between blocks.
    private static func render(_ values: [Double], shape: [Int], dim: Int, base: Int, indent: Int,
                               summarise: Bool, fmt: ElementFormatter) -> String {
        let n = shape[dim]
        let stride = shape[(dim + 1)...].reduce(1, *)
        let cut = summarise && n > 6
        if dim == shape.count - 1 {
            var items: [String] = []
            for i in 0..<n where !cut || i < 3 || i >= n - 3 {
                if cut && i == n - 3 { items.append(" ...") }
                items.append(fmt.format(values[base + i]))
            }
            let perLine = Swift.max(1, (80 - indent) / (fmt.width + 2))
            var lines: [String] = []
            var k = 0
            while k < items.count {
                lines.append(items[k..<Swift.min(k + perLine, items.count)].joined(separator: ", "))
                k += perLine
            }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        var slices: [String] = []
        for i in 0..<n where !cut || i < 3 || i >= n - 3 {
            if cut && i == n - 3 { slices.append("...") }
            slices.append(render(values, shape: shape, dim: dim + 1, base: base + i * stride, indent: indent + 1,
                                 summarise: summarise, fmt: fmt))
        }
        let sep = "," + String(repeating: "\n", count: shape.count - dim - 1) + String(repeating: " ", count: indent + 1)
        return "[" + slices.joined(separator: sep) + "]"
    }
}

/// PyTorch's `_Formatter`: one style and width for every element of a printed tensor.
private struct ElementFormatter {
    let dtype: DType
    var intMode = true
    var sciMode = false
    var width = 1

    init(dtype: DType, values: [Double]) {
        self.dtype = dtype
        if !dtype.isFloatingPoint {
            for v in values { width = Swift.max(width, plain(v).count) }
            return
        }
        let finite = values.filter { $0.isFinite && $0 != 0 }
        guard !finite.isEmpty else { return }
        let absVals = finite.map { Swift.abs($0) }
        let lo = absVals.min()!, hi = absVals.max()!
        intMode = finite.allSatisfy { $0 == $0.rounded(.up) }
        if intMode {
            if hi / lo > 1000 || hi > 1e8 {
                sciMode = true
                for v in finite { width = Swift.max(width, Self.sci(v).count) }
            } else {
                for v in finite { width = Swift.max(width, String(format: "%.0f", v).count + 1) }
            }
        } else if hi / lo > 1000 || hi > 1e8 || lo < 1e-4 {
            sciMode = true
            for v in finite { width = Swift.max(width, Self.sci(v).count) }
        } else {
            for v in finite { width = Swift.max(width, String(format: "%.4f", v).count) }
        }
    }

    /// `%.4e` with Python's two-digit exponent (`1.0000e-05`).
    static func sci(_ v: Double) -> String { String(format: "%.4e", v) }

    private func plain(_ v: Double) -> String {
        switch dtype {
        case .bool: return v != 0 ? "True" : "False"
        default: return String(Int64(v))
        }
    }

    /// The element right-aligned to `width`.
    func format(_ v: Double) -> String {
        let s: String
        if !dtype.isFloatingPoint {
            s = plain(v)
        } else if v.isNaN {
            s = "nan"
        } else if v.isInfinite {
            s = v > 0 ? "inf" : "-inf"
        } else if sciMode {
            s = Self.sci(v)
        } else if intMode {
            s = String(format: "%.0f", v) + "."
        } else {
            s = String(format: "%.4f", v)
        }
        return s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
