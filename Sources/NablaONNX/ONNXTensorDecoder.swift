import Foundation
import Nabla

/// Turns ONNX `TensorProto`s (initializers, `Constant` values, attribute tensors) into Nabla tensors.
///
/// Data comes from `raw_data` (little-endian), the typed repeated fields, or an external file beside the model
/// (`data_location: EXTERNAL`, whose `location` must stay inside `externalDirectory`). Element types Nabla lacks are
/// widened: int8/uint8/int16/uint16 to int32, uint32 to int64, float16/bfloat16 to float32.
struct ONNXTensorDecoder {
    /// The folder external-data locations are relative to; `nil` when the model came from bytes alone.
    var externalDirectory: String?
    /// External files already read, by location (a model usually keeps all its weights in one file).
    private var externalFiles: [String: Data] = [:]

    init(externalDirectory: String?) { self.externalDirectory = externalDirectory }

    /// The ONNX element type's name for messages.
    static func typeName(_ code: Int32) -> String {
        switch code {
        case 1: return "float"; case 2: return "uint8"; case 3: return "int8"; case 4: return "uint16"
        case 5: return "int16"; case 6: return "int32"; case 7: return "int64"; case 8: return "string"
        case 9: return "bool"; case 10: return "float16"; case 11: return "double"; case 12: return "uint32"
        case 13: return "uint64"; case 14: return "complex64"; case 15: return "complex128"; case 16: return "bfloat16"
        default: return "type \(code)"
        }
    }

    /// Nabla's dtype for an ONNX element type (after widening), or `nil` when there is none.
    static func dtype(_ code: Int32) -> DType? {
        switch code {
        case 1, 10, 16: return .float32
        case 11: return .float64
        case 2, 3, 4, 5, 6: return .int32
        case 7, 12: return .int64
        case 9: return .bool
        default: return nil
        }
    }

    /// The ONNX element type code of a Nabla dtype.
    static func code(_ dtype: DType) -> Int32 {
        switch dtype {
        case .float32: return 1
        case .float64: return 11
        case .int32: return 6
        case .int64: return 7
        case .bool: return 9
        }
    }

    /// Decodes `proto` into a tensor; `name` is used in messages when the proto has none.
    mutating func tensor(_ proto: Onnx_TensorProto, name fallback: String = "") throws(ONNXError) -> Tensor {
        let name = proto.name.isEmpty ? fallback : proto.name
        let code = proto.dataType
        guard let dtype = Self.dtype(code) else {
            throw .badTensor(name: name, reason: "element type \(Self.typeName(code)) is not supported")
        }
        var shape: [Int] = []
        var count = 1
        for d in proto.dims {
            guard d >= 0, d <= Int64(Int32.max) else { throw .badTensor(name: name, reason: "invalid dimension \(d) in \(proto.dims)") }
            shape.append(Int(d))
            let (m, o) = count.multipliedReportingOverflow(by: Int(d))
            guard !o, m <= 1 << 34 else { throw .badTensor(name: name, reason: "too many elements for shape \(proto.dims)") }
            count = m
        }
        if proto.hasSegment { throw .badTensor(name: name, reason: "segmented tensors are not supported") }
        let external = proto.dataLocation == .external
        if external || proto.hasRawData {
            let bytes = external ? try externalBytes(proto, name: name) : proto.rawData
            return try Self.fromRaw(bytes, code: code, shape: shape, count: count, dtype: dtype, name: name)
        }
        func need(_ got: Int) throws(ONNXError) {
            guard got == count else {
                throw .badTensor(name: name, reason: "shape \(shape) needs \(count) values, the file holds \(got)")
            }
        }
        switch code {
        case 1:
            try need(proto.floatData.count)
            return Tensor(shape: shape, data: proto.floatData)
        case 10, 16:
            // float16/bfloat16 values sit in int32_data, one per element (low 16 bits).
            try need(proto.int32Data.count)
            return Tensor(shape: shape, data: proto.int32Data.map { Self.halfToFloat(UInt16(truncatingIfNeeded: $0), bfloat: code == 16) })
        case 11:
            try need(proto.doubleData.count)
            return Tensor(shape: shape, data: proto.doubleData)
        case 2, 3, 4, 5, 6:
            try need(proto.int32Data.count)
            return Tensor(shape: shape, data: proto.int32Data)
        case 9:
            try need(proto.int32Data.count)
            return Tensor(shape: shape, data: proto.int32Data.map { $0 != 0 })
        case 7:
            try need(proto.int64Data.count)
            return Tensor(shape: shape, data: proto.int64Data)
        case 12:
            try need(proto.uint64Data.count)
            return Tensor(shape: shape, data: proto.uint64Data.map { Int64(truncatingIfNeeded: $0) })
        default:
            throw .badTensor(name: name, reason: "element type \(Self.typeName(code)) is not supported")
        }
    }

    /// The external bytes of `proto`: `location`, `offset`, `length` from its `external_data` entries.
    private mutating func externalBytes(_ proto: Onnx_TensorProto, name: String) throws(ONNXError) -> Data {
        var location = "", offset = 0, length: Int?
        for e in proto.externalData {
            switch e.key {
            case "location": location = e.value
            case "offset":
                guard let v = Int(e.value), v >= 0 else { throw .badTensor(name: name, reason: "invalid external offset '\(e.value)'") }
                offset = v
            case "length":
                guard let v = Int(e.value), v >= 0 else { throw .badTensor(name: name, reason: "invalid external length '\(e.value)'") }
                length = v
            default: break
            }
        }
        guard let dir = externalDirectory else {
            throw .badTensor(name: name, reason: "its data is in the external file '\(location)', but the model was given as bytes without a folder")
        }
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.isEmpty, !location.hasPrefix("/"), !parts.contains("..") else {
            throw .badTensor(name: name, reason: "external data location '\(location)' must be a relative path inside the model's folder")
        }
        let data: Data
        if let cached = externalFiles[location] {
            data = cached
        } else {
            let path = (dir as NSString).appendingPathComponent(location)
            guard let d = FileManager.default.contents(atPath: path) else {
                throw .badTensor(name: name, reason: "cannot read external data file '\(path)'")
            }
            externalFiles[location] = d
            data = d
        }
        let len = length ?? (data.count - offset)
        guard offset <= data.count, len >= 0, len <= data.count - offset else {
            throw .badTensor(name: name, reason: "external range offset \(offset) length \(len) exceeds '\(location)' (\(data.count) bytes)")
        }
        return data.subdata(in: data.startIndex + offset ..< data.startIndex + offset + len)
    }

    /// A tensor from little-endian raw bytes of ONNX type `code`.
    private static func fromRaw(_ bytes: Data, code: Int32, shape: [Int], count: Int, dtype: DType,
                                name: String) throws(ONNXError) -> Tensor {
        let size: Int
        switch code {
        case 1, 6, 12: size = 4
        case 2, 3, 9: size = 1
        case 4, 5, 10, 16: size = 2
        case 7, 11, 13: size = 8
        default: throw .badTensor(name: name, reason: "element type \(typeName(code)) is not supported")
        }
        guard bytes.count == count * size else {
            throw .badTensor(name: name, reason: "shape \(shape) of \(typeName(code)) needs \(count * size) bytes, the file holds \(bytes.count)")
        }
        return bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Tensor in
            func load<T>(_: T.Type) -> [T] { (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self) } }
            switch code {
            case 1: return Tensor(shape: shape, data: load(Float.self))
            case 11: return Tensor(shape: shape, data: load(Double.self))
            case 6: return Tensor(shape: shape, data: load(Int32.self))
            case 7: return Tensor(shape: shape, data: load(Int64.self))
            case 12: return Tensor(shape: shape, data: load(UInt32.self).map { Int64($0) })
            case 13: return Tensor(shape: shape, data: load(UInt64.self).map { Int64(truncatingIfNeeded: $0) })
            case 2: return Tensor(shape: shape, data: load(UInt8.self).map { Int32($0) })
            case 3: return Tensor(shape: shape, data: load(Int8.self).map { Int32($0) })
            case 4: return Tensor(shape: shape, data: load(UInt16.self).map { Int32($0) })
            case 5: return Tensor(shape: shape, data: load(Int16.self).map { Int32($0) })
            case 9: return Tensor(shape: shape, data: load(UInt8.self).map { $0 != 0 })
            default: return Tensor(shape: shape, data: load(UInt16.self).map { halfToFloat($0, bfloat: code == 16) })
            }
        }
    }

    /// An IEEE half or a bfloat16 bit pattern as a Float.
    static func halfToFloat(_ bits: UInt16, bfloat: Bool) -> Float {
        if bfloat { return Float(bitPattern: UInt32(bits) << 16) }
        let sign = UInt32(bits >> 15) << 31, exp = Int((bits >> 10) & 0x1F), frac = UInt32(bits & 0x3FF)
        if exp == 0 {
            let v = Float(frac) * pow2(-24)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
    }

    /// 2^e as a Float.
    private static func pow2(_ e: Int) -> Float { Float(sign: .plus, exponent: e, significand: 1) }
}
