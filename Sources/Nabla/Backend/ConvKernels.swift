import CNablaKernels

/// The window sweep of a 2-D convolution over a batch, shared by `im2col` and `col2im`
/// (1-D convolutions use `height == kernelH == outH == 1`).
public struct ConvGeometry: Sendable, Hashable {
    /// Batch size N.
    public var batch: Int
    /// Channels C of the image side.
    public var channels: Int
    /// Image height H.
    public var height: Int
    /// Image width W.
    public var width: Int
    /// Kernel height.
    public var kernelH: Int
    /// Kernel width.
    public var kernelW: Int
    /// Vertical stride.
    public var strideH: Int
    /// Horizontal stride.
    public var strideW: Int
    /// Zero padding above (and below).
    public var padH: Int
    /// Zero padding left (and right).
    public var padW: Int
    /// Vertical dilation.
    public var dilationH: Int
    /// Horizontal dilation.
    public var dilationW: Int
    /// Number of window rows.
    public var outH: Int
    /// Number of window columns.
    public var outW: Int

    /// Creates a geometry from all its fields.
    public init(batch: Int, channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                strideH: Int, strideW: Int, padH: Int, padW: Int, dilationH: Int, dilationW: Int, outH: Int, outW: Int) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padH = padH; self.padW = padW; self.dilationH = dilationH; self.dilationW = dilationW
        self.outH = outH; self.outW = outW
    }

    /// Shape of the column matrix: `[C·kh·kw, N·oh·ow]`.
    public var columnsShape: [Int] { [channels * kernelH * kernelW, batch * outH * outW] }
    /// Shape of the image side: `[N, C, H, W]`.
    public var imageShape: [Int] { [batch, channels, height, width] }

    /// The C kernels' view of the geometry.
    var c: nabla_conv_geom {
        nabla_conv_geom(n: Int64(batch), c: Int64(channels), h: Int64(height), w: Int64(width),
                        kh: Int64(kernelH), kw: Int64(kernelW), sh: Int64(strideH), sw: Int64(strideW),
                        ph: Int64(padH), pw: Int64(padW), dh: Int64(dilationH), dw: Int64(dilationW),
                        oh: Int64(outH), ow: Int64(outW))
    }
}

/// The windows of a 2-D max pooling: output row `i` covers input rows `rowStart[i] + k·rowDilation`
/// for `k < rowCount[i]` (columns likewise); taps outside the plane are skipped (PyTorch's -inf padding).
/// Regular pools have equal counts; adaptive pools have per-row windows.
public struct PoolWindows: Sendable, Hashable {
    /// Input plane height.
    public var height: Int
    /// Input plane width.
    public var width: Int
    /// First input row of each output row (may be negative: padding).
    public var rowStart: [Int]
    /// Number of taps of each output row's window.
    public var rowCount: [Int]
    /// Step between taps along rows.
    public var rowDilation: Int
    /// First input column of each output column.
    public var colStart: [Int]
    /// Number of taps of each output column's window.
    public var colCount: [Int]
    /// Step between taps along columns.
    public var colDilation: Int

    /// Creates the windows.
    public init(height: Int, width: Int, rowStart: [Int], rowCount: [Int], rowDilation: Int,
                colStart: [Int], colCount: [Int], colDilation: Int) {
        self.height = height; self.width = width
        self.rowStart = rowStart; self.rowCount = rowCount; self.rowDilation = rowDilation
        self.colStart = colStart; self.colCount = colCount; self.colDilation = colDilation
    }

    /// Output height.
    public var outH: Int { rowStart.count }
    /// Output width.
    public var outW: Int { colStart.count }

    /// The kernel size `k` when the windows are `k x k` with stride `k`, no padding and no dilation.
    var tiledKernel: Int? {
        guard rowDilation == 1, colDilation == 1, let k = rowCount.first, k > 0 else { return nil }
        for (i, (s, n)) in zip(rowStart, rowCount).enumerated() where s != i * k || n != k { return nil }
        for (i, (s, n)) in zip(colStart, colCount).enumerated() where s != i * k || n != k { return nil }
        return outH * k <= height && outW * k <= width ? k : nil
    }
}

// Default implementations for backends without their own conv/pool kernels: run the CPU kernels
// on host copies and upload the result (correct everywhere, fast only on the CPU).
extension Backend {
    /// Runs `body` on host copies of `inputs` and writes its host result into `out` (contiguous).
    private func viaHost(_ inputs: [Tensor], out: Tensor, _ body: ([Tensor], Tensor) -> Void) {
        let host = inputs.map { $0.to(.cpu).contiguousNoGrad() }
        let hostOut = Tensor(empty: out.shape, dtype: out.dtype)
        body(host, hostOut)
        upload(UnsafeRawBufferPointer(start: hostOut.storage.data, count: hostOut.count * out.dtype.itemSize),
               to: out.storage, byteOffset: out.offset * out.dtype.itemSize)
    }

    /// `im2col` through the CPU kernel.
    public func im2col(_ x: Tensor, geometry: ConvGeometry, out: Tensor) {
        viaHost([x], out: out) { h, o in CPUBackend.shared.im2col(h[0], geometry: geometry, out: o) }
    }

    /// `col2im` through the CPU kernel.
    public func col2im(_ cols: Tensor, geometry: ConvGeometry, out: Tensor) {
        viaHost([cols], out: out) { h, o in CPUBackend.shared.col2im(h[0], geometry: geometry, out: o) }
    }

    /// `maxPool2d` through the CPU kernel.
    public func maxPool2d(_ x: Tensor, windows: PoolWindows, out: Tensor, indices: Tensor) {
        let hostIdx = Tensor(empty: indices.shape, dtype: .int64)
        viaHost([x], out: out) { h, o in CPUBackend.shared.maxPool2d(h[0], windows: windows, out: o, indices: hostIdx) }
        upload(UnsafeRawBufferPointer(start: hostIdx.storage.data, count: hostIdx.count * 8),
               to: indices.storage, byteOffset: indices.offset * 8)
    }

    /// `maxPool2dBackward` through the CPU kernel.
    public func maxPool2dBackward(_ grad: Tensor, indices: Tensor, out: Tensor) {
        viaHost([grad, indices], out: out) { h, o in CPUBackend.shared.maxPool2dBackward(h[0], indices: h[1], out: o) }
    }

    /// `swapLeadingDims` through the CPU kernel.
    public func swapLeadingDims(_ x: Tensor, bias: Tensor?, out: Tensor) {
        viaHost([x] + (bias.map { [$0] } ?? []), out: out) { h, o in
            CPUBackend.shared.swapLeadingDims(h[0], bias: h.count > 1 ? h[1] : nil, out: o)
        }
    }
}
