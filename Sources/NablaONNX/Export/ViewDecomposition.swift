/// How a strided view of a row-major buffer is made from the buffer with ONNX's shape ops: reshape the buffer to
/// `base`, slice each dim to `starts..<ends`, transpose by `perm`, reshape to `shaped` (the view's shape with 1 where
/// it broadcasts) and expand to `expanded` (the view's shape).
///
/// Dims of size 1 are left out of the base (their stride means nothing) and put back by the reshape; dims of stride
/// 0 become an `Expand`. A view whose strides do not nest (each one a multiple of the next smaller, which every view
/// made by reshape, permute, transpose, expand, narrow and indexing has) has no such form.
struct ViewDecomposition: Equatable {
    /// The contiguous shape the buffer is reshaped to (dims in decreasing stride order).
    var base: [Int]
    /// First index kept along each base dim.
    var starts: [Int]
    /// One past the last index kept along each base dim.
    var ends: [Int]
    /// The permutation from stride order to the view's dim order.
    var perm: [Int]
    /// The view's shape with 1 at broadcast (stride-0) dims.
    var shaped: [Int]
    /// The view's shape.
    var expanded: [Int]

    /// Whether `shape`/`strides`/`offset` read all `count` elements of the buffer in row-major order (a reshape).
    static func isContiguousWhole(shape: [Int], strides: [Int], offset: Int, count: Int) -> Bool {
        guard offset == 0, shape.reduce(1, *) == count else { return false }
        var expected = 1
        for i in shape.indices.reversed() where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// The decomposition of a view of a buffer of `count` elements, or nil when the strides do not nest.
    init?(shape: [Int], strides: [Int], offset: Int, count: Int) {
        let kept = shape.indices.filter { shape[$0] != 1 && strides[$0] != 0 }
        let order = kept.sorted { strides[$0] > strides[$1] }
        var base: [Int] = [], starts: [Int] = [], ends: [Int] = []
        var sizes = order.map { shape[$0] }, strideList = order.map { strides[$0] }
        if strideList.last != 1 {   // a trailing dim of stride 1 that the view takes one element of
            sizes.append(1)
            strideList.append(1)
        }
        var rem = offset
        for j in strideList.indices {
            let s = strideList[j]
            guard s > 0 else { return nil }
            let b: Int
            if j == 0 {
                guard count % s == 0 else { return nil }
                b = count / s
            } else {
                guard strideList[j - 1] % s == 0, strideList[j - 1] > s else { return nil }
                b = strideList[j - 1] / s
            }
            let o = rem / s
            rem %= s
            guard o + sizes[j] <= b else { return nil }
            base.append(b); starts.append(o); ends.append(o + sizes[j])
        }
        guard rem == 0 else { return nil }
        self.base = base
        self.starts = starts
        self.ends = ends
        // After the slices the dims are in stride order; the view wants them in its own order (the trailing
        // pseudo-dim, if any, last: the reshape to `shaped` drops it).
        var perm = kept.map { v in order.firstIndex(of: v)! }
        if perm.count < sizes.count { perm.append(sizes.count - 1) }
        self.perm = perm
        self.shaped = shape.indices.map { strides[$0] == 0 ? 1 : shape[$0] }
        self.expanded = shape
    }
}

/// Where a write covers part of a row-major buffer of shape `full`: the slice `start..<start + size` of dim `dim`
/// (what `cat` and `stack` write into their output).
struct BufferSlice: Equatable {
    /// The buffer's shape as the write's strides imply it.
    var full: [Int]
    /// The dim the write covers part of.
    var dim: Int
    /// First index along `dim`.
    var start: Int

    /// The slice a write of `shape`/`strides`/`offset` into `count` elements covers, or nil if it is not one.
    init?(shape: [Int], strides: [Int], offset: Int, count: Int) {
        let n = shape.count
        guard n > 0, strides.last == 1, strides.allSatisfy({ $0 > 0 }), count % strides[0] == 0 else { return nil }
        var full = [Int](repeating: 0, count: n)
        full[0] = count / strides[0]
        for i in 1..<n {
            guard strides[i - 1] % strides[i] == 0 else { return nil }
            full[i] = strides[i - 1] / strides[i]
        }
        let partial = (0..<n).filter { shape[$0] != full[$0] }
        guard partial.count == 1, let d = partial.first, offset % strides[d] == 0 else { return nil }
        let start = offset / strides[d]
        guard start + shape[d] <= full[d], start * strides[d] == offset else { return nil }
        self.full = full
        self.dim = d
        self.start = start
    }
}
