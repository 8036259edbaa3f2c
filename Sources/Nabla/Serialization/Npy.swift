// The NumPy `.npy` format: magic `\x93NUMPY`, version (1.0: 2-byte header length, 2.0/3.0: 4-byte),
// then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded
// with spaces and a newline so the data starts on a 64-byte boundary, then the raw data.

/// The parts of an `.npy` header.
struct NpyHeader {
    let stored: StoredDType
    let fortranOrder: Bool
    let shape: [Int]
    let count: Int
    /// Byte offset of the data in the buffer.
    let dataStart: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// The `.npy` descr strings this reader accepts (little-endian or byte-order-free).
    static func stored(descr: String) -> StoredDType? {
        switch descr {
        case "<f4": return .f32
        case "<f8": return .f64
        case "<f2": return .f16
        case "<i4": return .i32
        case "<i8": return .i64
        case "<i2": return .i16
        case "|i1", "<i1": return .i8
        case "|u1", "<u1": return .u8
        case "<u2": return .u16
        case "<u4": return .u32
        case "|b1", "<b1": return .bool
        default: return nil
        }
    }

    /// Parses the header at the start of `bytes` (`name` is the tensor's name in messages).
    init(_ bytes: ArraySlice<UInt8>, path: String, name: String) throws(SerializationError) {
        let base = bytes.startIndex
        guard bytes.count >= 10 else { throw .truncated(path: path, what: "the .npy preamble of '\(name)'", expected: 10, got: bytes.count) }
        guard Array(bytes[base..<base + 6]) == NpyHeader.magic else { throw .badHeader(path: path, reason: "'\(name)' does not start with the .npy magic \\x93NUMPY") }
        let major = bytes[base + 6]
        let lenSize: Int
        switch major {
        case 1: lenSize = 2
        case 2, 3: lenSize = 4
        default: throw .badHeader(path: path, reason: "'\(name)': unsupported .npy version \(major).\(bytes[base + 7])")
        }
        guard bytes.count >= 8 + lenSize else { throw .truncated(path: path, what: "the .npy header length of '\(name)'", expected: 8 + lenSize, got: bytes.count) }
        var hlen = 0
        for i in (0..<lenSize).reversed() { hlen = hlen << 8 | Int(bytes[base + 8 + i]) }
        let start = 8 + lenSize
        let maxHeader = ReaderLimits.current.maxHeaderBytes
        guard hlen <= maxHeader else {
            throw .badHeader(path: path, reason: "'\(name)': header length \(hlen) exceeds the limit of \(maxHeader) bytes (ReaderLimits.maxHeaderBytes)")
        }
        guard bytes.count - start >= hlen else { throw .truncated(path: path, what: "the .npy header of '\(name)'", expected: start + hlen, got: bytes.count) }
        let text = bytes[(base + start)..<(base + start + hlen)]
        var parser = PyLiteralParser(bytes: text)
        let dict: [String: PyLiteral]
        do { dict = try parser.dict() } catch { throw .badHeader(path: path, reason: "'\(name)': \(error.message)") }
        guard case .string(let descr)? = dict["descr"] else { throw .badHeader(path: path, reason: "'\(name)': missing 'descr' string") }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw .badHeader(path: path, reason: "'\(name)': missing 'fortran_order' bool") }
        guard case .tuple(let shape)? = dict["shape"] else { throw .badHeader(path: path, reason: "'\(name)': missing 'shape' tuple") }
        guard let stored = NpyHeader.stored(descr: descr) else { throw .unsupportedDType(path: path, tensor: name, dtype: descr) }
        if let problem = ReaderLimits.current.shapeProblem(shape) { throw .badTensor(path: path, tensor: name, reason: problem) }
        guard let count = checkedElementCount(shape), !count.multipliedReportingOverflow(by: stored.itemSize).overflow else {
            throw .badTensor(path: path, tensor: name, reason: "invalid shape \(shape)")
        }
        self.stored = stored; self.fortranOrder = fortran; self.shape = shape; self.count = count
        self.dataStart = start + hlen
    }

    /// The header numpy writes for a C-order array of `dtype` and `shape` (version 1.0 unless too long).
    static func encode(dtype: DType, shape: [Int]) -> [UInt8] {
        let descr: String
        switch dtype {
        case .float32: descr = "<f4"
        case .float64: descr = "<f8"
        case .int32: descr = "<i4"
        case .int64: descr = "<i8"
        case .bool: descr = "|b1"
        }
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        var body = Array(dict.utf8)
        var lenSize = 2
        var total = 6 + 2 + lenSize + body.count + 1
        if body.count + 1 + (64 - total % 64) > 65535 { lenSize = 4; total += 2 }
        let pad = 64 - total % 64  // numpy pads a full 64 bytes when already aligned
        body.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad))
        body.append(UInt8(ascii: "\n"))
        var out = NpyHeader.magic + [lenSize == 2 ? 1 : 2, 0]
        for i in 0..<lenSize { out.append(UInt8(truncatingIfNeeded: body.count >> (8 * i))) }
        return out + body
    }

    /// The tensor stored after this header in `bytes`.
    func tensor(_ bytes: ArraySlice<UInt8>, path: String, name: String) throws(SerializationError) -> Tensor {
        let need = count * stored.itemSize
        let have = bytes.count - dataStart
        guard have >= need else { throw .truncated(path: path, what: "the data of '\(name)' (shape \(shape))", expected: dataStart + need, got: bytes.count) }
        let from = bytes.startIndex + dataStart
        let fileShape = fortranOrder ? Array(shape.reversed()) : shape
        let t = bytes[from..<(from + need)].withUnsafeBytes { stored.makeTensor(shape: fileShape, count: count, from: $0) }
        guard fortranOrder && shape.count > 1 else { return t }
        return t.permute(Array((0..<shape.count).reversed())).contiguous()
    }
}

/// A value of the Python literal subset used by `.npy` headers.
enum PyLiteral { case string(String), bool(Bool), tuple([Int]) }

struct PyLiteralError: Error { let message: String }

/// Parses `{'key': value, ...}` where values are strings, True/False or tuples of integers.
struct PyLiteralParser {
    let bytes: ArraySlice<UInt8>
    var i: Int
    init(bytes: ArraySlice<UInt8>) { self.bytes = bytes; i = bytes.startIndex }

    mutating func space() { while i < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 } }
    func peek() -> UInt8? { i < bytes.endIndex ? bytes[i] : nil }
    mutating func eat(_ c: Character) throws(PyLiteralError) {
        space()
        guard peek() == c.asciiValue else { throw PyLiteralError(message: "expected '\(c)' at byte \(i - bytes.startIndex) of the header") }
        i += 1
    }

    mutating func dict() throws(PyLiteralError) -> [String: PyLiteral] {
        try eat("{")
        var out: [String: PyLiteral] = [:]
        while true {
            space()
            if peek() == UInt8(ascii: "}") { i += 1; break }
            let key = try string()
            try eat(":")
            space()
            out[key] = try value()
            space()
            if peek() == UInt8(ascii: ",") { i += 1; continue }
            try eat("}")
            break
        }
        return out
    }

    mutating func string() throws(PyLiteralError) -> String {
        space()
        guard let q = peek(), q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else { throw PyLiteralError(message: "expected a quoted string") }
        i += 1
        let start = i
        while i < bytes.endIndex, bytes[i] != q {
            guard bytes[i] != UInt8(ascii: "\\") else { throw PyLiteralError(message: "escapes are not supported in header strings") }
            i += 1
        }
        guard i < bytes.endIndex else { throw PyLiteralError(message: "unterminated string") }
        defer { i += 1 }
        guard let s = String(validating: bytes[start..<i], as: UTF8.self) else { throw PyLiteralError(message: "string is not valid UTF-8") }
        return s
    }

    mutating func word(_ w: String) -> Bool {
        let u = Array(w.utf8)
        guard bytes.endIndex - i >= u.count, Array(bytes[i..<(i + u.count)]) == u else { return false }
        i += u.count
        return true
    }

    mutating func value() throws(PyLiteralError) -> PyLiteral {
        if word("True") { return .bool(true) }
        if word("False") { return .bool(false) }
        if peek() == UInt8(ascii: "(") {
            i += 1
            var dims: [Int] = []
            while true {
                space()
                if peek() == UInt8(ascii: ")") { i += 1; break }
                var v = 0
                var digits = 0
                while let c = peek(), c >= 0x30, c <= 0x39 {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int(c - 0x30))
                    guard !o1, !o2 else { throw PyLiteralError(message: "shape dimension is too large") }
                    v = a; digits += 1; i += 1
                }
                if peek() == UInt8(ascii: "L") { i += 1 }
                guard digits > 0 else { throw PyLiteralError(message: "expected a non-negative integer in the shape tuple") }
                dims.append(v)
                space()
                if peek() == UInt8(ascii: ",") { i += 1; continue }
                try eat(")")
                break
            }
            return .tuple(dims)
        }
        return .string(try string())
    }
}

/// Writes one tensor to `path` in NumPy's `.npy` format (`numpy.save`), atomically.
///
/// The array is written in C order with numpy's own header (`<f4`, `<f8`, `<i4`, `<i8`, `|b1`).
/// ```swift
/// try saveNpy(Tensor.randn([2, 3]), to: "x.npy")
/// ```
public func saveNpy(_ t: Tensor, to path: String) throws {
    try AtomicFile.write(to: path) { write in
        try NpyHeader.encode(dtype: t.dtype, shape: t.shape).withUnsafeBytes { try write($0) }
        try t.withContiguousBytes { if $0.count > 0 { try write($0) } }
    }
}

/// Reads a tensor from a NumPy `.npy` file (`numpy.load`).
///
/// Accepts versions 1.0 to 3.0, C or Fortran order, and little-endian `<f4 <f8 <i4 <i8 |b1` (as their
/// Nabla dtype) plus `<f2` (as float32) and `|u1 |i1 <i2 <u2` (as int32), `<u4` (as int64).
/// - Throws: `SerializationError` for a missing, truncated or malformed file, or another dtype.
public func loadNpy(from path: String) throws -> Tensor {
    let bytes = try ReadableFile(path).all()
    return try decodeNpy(bytes[...], path: path, name: basename(path))
}

/// Decodes one `.npy` image (also each member of an `.npz`).
func decodeNpy(_ bytes: ArraySlice<UInt8>, path: String, name: String) throws(SerializationError) -> Tensor {
    let h = try NpyHeader(bytes, path: path, name: name)
    return try h.tensor(bytes, path: path, name: name)
}

/// The last path component.
func basename(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}
