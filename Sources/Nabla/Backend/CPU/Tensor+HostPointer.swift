extension Tensor {
    /// The address of this view's first element as `T`, for kernels written outside `Nabla`
    /// (optimizers, data loaders). Host tensors only; `T` must match `dtype`.
    package func unsafeMutablePointer<T: TensorScalar>(_: T.Type) -> UnsafeMutablePointer<T> {
        check(device == .cpu, "unsafeMutablePointer: tensor is on \(device); move it to .cpu first")
        Tracer.noteHostRead(self, op: "unsafeMutablePointer (host code reading or writing the elements)")
        check(T.dtype == dtype || (T.self == Int.self && dtype == .int64), "unsafeMutablePointer: tensor has dtype \(dtype), requested \(T.self)")
        return storage.pointer(T.self) + offset
    }

    /// Records that the storage was written through `unsafeMutablePointer` (bumps the version counter).
    package func markModifiedInPlace() { storage.bumpVersion() }
}
