extension Tensor {
    /// Converts to `dtype` (`x.to(torch.float64)`); returns `self` when already of that dtype.
    ///
    /// Differentiable between floating dtypes (the gradient is cast back).
    public func to(_ dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        let out = Tensor(empty: shape, dtype: dtype, device: device)
        backend.copy(self, into: out)
        if dtype.isFloatingPoint && self.dtype.isFloatingPoint && isRecording(self) {
            let from = self.dtype
            record(out, op: "ToCopyBackward", inputs: [self], jvp: { [$0[0]!.to(dtype)][0] }) { g, _ in [g[0].to(from)] }
        }
        return out
    }

    /// Moves to `device` (`x.to("cuda")`); returns `self` when already there.
    public func to(_ device: Device) -> Tensor {
        if device == self.device { return self }
        let target = device.backend
        let src = contiguous()
        let out = Tensor(storage: Storage.allocate(count: count, dtype: dtype, backend: target), shape: shape, strides: Shape.contiguousStrides(shape))
        let bytes = count * dtype.itemSize
        let host = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(bytes, 1), alignment: 64)
        defer { host.deallocate() }
        src.backend.download(src.storage, byteOffset: src.offset * dtype.itemSize, into: UnsafeMutableRawBufferPointer(rebasing: host[0..<bytes]))
        target.upload(UnsafeRawBufferPointer(rebasing: host[0..<bytes]), to: out.storage, byteOffset: 0)
        if isRecording(self) {
            let from = self.device
            record(out, op: "ToCopyBackward", inputs: [self]) { g, _ in [g[0].to(from)] }
        }
        return out
    }

    /// Copies to host memory (`x.cpu()`).
    public func cpu() -> Tensor { to(.cpu) }

    /// Copies to CUDA device `index` (`x.cuda()`); stops with a clear message when no CUDA device is available.
    public func cuda(_ index: Int = 0) -> Tensor { to(.cuda(index)) }

    /// A host copy in row-major order, contiguous.
    func hostContiguous() -> Tensor {
        Tracer.noteHostRead(self, op: "a read on the host (print, save, toArray)")
        return to(.cpu).contiguousNoGrad()
    }

    /// `contiguous()` without recording.
    func contiguousNoGrad() -> Tensor { isContiguous ? self : contiguousCopy() }

    /// The elements in row-major order, converted to `T` (`x.tolist()` flattened).
    public func toArray<T: TensorScalar>(_: T.Type = T.self) -> [T] {
        Tracer.noteHostRead(self, op: "toArray")
        let h = hostContiguous()
        let src = h.to(T.dtype).hostContiguous()
        let p = src.storage.pointer(T.self) + src.offset
        return Array(UnsafeBufferPointer(start: p, count: src.count))
    }

    /// The elements as `Float`s in row-major order.
    public func toFloatArray() -> [Float] { toArray(Float.self) }
    /// The elements as `Double`s in row-major order.
    public func toDoubleArray() -> [Double] { toArray(Double.self) }
    /// The elements as `Int`s in row-major order.
    public func toIntArray() -> [Int] { toArray(Int64.self).map { Int($0) } }
    /// The elements as `Bool`s in row-major order.
    public func toBoolArray() -> [Bool] { toArray(Bool.self) }

    /// The value of a one-element tensor as `Double` (`x.item()`).
    public func item() -> Double {
        check(count == 1, "item: a Tensor with \(count) elements cannot be converted to a scalar (shape \(shape))")
        Tracer.noteHostRead(self, op: "item")
        return element(at: offset)
    }

    /// The value of a one-element tensor converted to `T`.
    public func item<T: TensorScalar>(_: T.Type) -> T { T(fromDouble: item()) }

    /// The element at storage position `index` as a Double (host tensors).
    func element(at index: Int) -> Double {
        if device != .cpu { return to(.cpu).element(at: index - offset) }
        switch dtype {
        case .float32: return Double(storage.pointer(Float.self)[index])
        case .float64: return storage.pointer(Double.self)[index]
        case .int32: return Double(storage.pointer(Int32.self)[index])
        case .int64: return Double(storage.pointer(Int64.self)[index])
        case .bool: return storage.pointer(Bool.self)[index] ? 1 : 0
        }
    }

    /// Writes `value` at row-major flat index `i` of a contiguous host tensor (no autograd).
    func flatIndexPut(_ i: Int, _ value: Double) {
        check(isContiguous, "flatIndexPut: needs a contiguous tensor")
        if !storage.backend.allocatesSmallBuffersInline {   // not host memory the CPU owns: one element through the backend
            backend.fill(aliased(ViewGeometry(shape: [], strides: [], offset: offset + i)), value: value)
            storage.bumpVersion()
            return
        }
        let idx = offset + i
        switch dtype {
        case .float32: storage.pointer(Float.self)[idx] = Float(value)
        case .float64: storage.pointer(Double.self)[idx] = value
        case .int32: storage.pointer(Int32.self)[idx] = Int32(fromDouble: value)
        case .int64: storage.pointer(Int64.self)[idx] = Int64(fromDouble: value)
        case .bool: storage.pointer(Bool.self)[idx] = value != 0
        }
        storage.bumpVersion()
    }
}
