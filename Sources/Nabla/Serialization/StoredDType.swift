/// An element type as stored in a file, which may be narrower than Nabla's dtypes.
///
/// Reading converts to a Nabla dtype: F16 and BF16 become float32; U8, I8, I16 and U16 become int32;
/// U32 becomes int64. Writing uses only Nabla's own dtypes.
enum StoredDType: CaseIterable {
    case f16, bf16, f32, f64, i8, i16, i32, i64, u8, u16, u32, bool

    /// The Nabla dtype this element type is read into.
    var nablaDType: DType {
        switch self {
        case .f16, .bf16, .f32: return .float32
        case .f64: return .float64
        case .i8, .i16, .u8, .u16, .i32: return .int32
        case .i64, .u32: return .int64
        case .bool: return .bool
        }
    }

    /// Bytes per element in the file.
    var itemSize: Int {
        switch self {
        case .i8, .u8, .bool: return 1
        case .f16, .bf16, .i16, .u16: return 2
        case .f32, .i32, .u32: return 4
        case .f64, .i64: return 8
        }
    }

    /// The stored type that holds a Nabla dtype exactly.
    init(_ dtype: DType) {
        switch dtype {
        case .float32: self = .f32
        case .float64: self = .f64
        case .int32: self = .i32
        case .int64: self = .i64
        case .bool: self = .bool
        }
    }

    /// The safetensors header name (`F32`, `BF16`, ...).
    var safetensorsName: String {
        switch self {
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .f32: return "F32"
        case .f64: return "F64"
        case .i8: return "I8"
        case .i16: return "I16"
        case .i32: return "I32"
        case .i64: return "I64"
        case .u8: return "U8"
        case .u16: return "U16"
        case .u32: return "U32"
        case .bool: return "BOOL"
        }
    }

    /// The stored type named `name` in a safetensors header, or nil.
    init?(safetensorsName name: String) {
        guard let t = StoredDType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = t
    }

    /// A new tensor of `shape` decoded from little-endian `raw` (exactly `count * itemSize` bytes).
    func makeTensor(shape: [Int], count n: Int, from raw: UnsafeRawBufferPointer) -> Tensor {
        let t = Tensor(empty: shape, dtype: nablaDType)
        guard n > 0, let src = raw.baseAddress else { return t }
        let dst = t.storage.data
        switch self {
        case .f32, .f64, .i32, .i64:
            dst.copyMemory(from: src, byteCount: n * itemSize)
        case .bool:
            let p = dst.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n { p[i] = raw[i] != 0 ? 1 : 0 }
        case .f16:
            let p = dst.assumingMemoryBound(to: Float.self)
            for i in 0..<n { p[i] = StoredDType.halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .bf16:
            let p = dst.assumingMemoryBound(to: Float.self)
            for i in 0..<n { p[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        case .i8:
            let p = dst.assumingMemoryBound(to: Int32.self)
            for i in 0..<n { p[i] = Int32(Int8(bitPattern: raw[i])) }
        case .u8:
            let p = dst.assumingMemoryBound(to: Int32.self)
            for i in 0..<n { p[i] = Int32(raw[i]) }
        case .i16:
            let p = dst.assumingMemoryBound(to: Int32.self)
            for i in 0..<n { p[i] = Int32(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case .u16:
            let p = dst.assumingMemoryBound(to: Int32.self)
            for i in 0..<n { p[i] = Int32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .u32:
            let p = dst.assumingMemoryBound(to: Int64.self)
            for i in 0..<n { p[i] = Int64(raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        }
        return t
    }

    /// IEEE half-precision bits to Float (exact).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h & 0x8000) << 16
        let exp = UInt32((h >> 10) & 0x1F), mant = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(mant) / 16_777_216
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }
}

/// Element count of `shape`, or nil when a dimension is negative or the product overflows.
func checkedElementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard !o else { return nil }
        n = p
    }
    return n
}

extension Tensor {
    /// Calls `body` with this tensor's elements as contiguous little-endian host bytes (no autograd).
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let h = hostContiguous()
        let start = h.storage.data + h.offset * h.dtype.itemSize
        return try withExtendedLifetime(h) { try body(UnsafeRawBufferPointer(start: start, count: h.count * h.dtype.itemSize)) }
    }
}
