#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CIFAR-10 from the binary version's batch files, as `torchvision.datasets.CIFAR10`.
///
/// `root` is the folder holding `data_batch_1.bin` ... `data_batch_5.bin` and `test_batch.bin`
/// (or the folder containing `cifar-10-batches-bin/`). Each record is 3073 bytes: the label, then
/// 1024 red, 1024 green and 1024 blue bytes of a 32×32 image. Images are `float32` in [0, 1] with shape
/// `[N, 3, 32, 32]`; labels are `int64` in 0..<10.
///
/// ```swift
/// let test = try CIFAR10(root: "data/cifar-10-batches-bin", train: false)
/// ```
public struct CIFAR10: BatchDataset, Sendable {
    /// The class names, in label order.
    public static let classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    /// Bytes per record: one label and a 3×32×32 image.
    public static let recordSize = 3073
    /// `[N, 3, 32, 32]` float32 in [0, 1].
    public let images: Tensor
    /// `[N]` int64.
    public let labels: Tensor

    /// Loads the training batches (`train: true`) or the test batch from `root`; throws `DatasetError`
    /// on a missing file, a size that is not a whole number of records, or a label outside 0..<10.
    public init(root: String, train: Bool = true) throws(DatasetError) {
        var dir = root
        if fopen("\(root)/cifar-10-batches-bin/test_batch.bin", "rb").map({ fclose($0) }) != nil {
            dir = "\(root)/cifar-10-batches-bin"
        }
        let names = train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        var pixels: [Float] = []
        var labels: [Int64] = []
        for name in names {
            let path = "\(dir)/\(name)"
            let raw = try readMaybeGzip(path)
            let rs = CIFAR10.recordSize
            guard !raw.isEmpty else { throw .truncated(path: path, expected: rs, got: 0) }
            guard raw.count % rs == 0 else {
                throw .truncated(path: path, expected: (raw.count / rs + 1) * rs, got: raw.count)
            }
            let n = raw.count / rs
            pixels.reserveCapacity(pixels.count + n * (rs - 1))
            for r in 0..<n {
                let label = raw[r * rs]
                guard label < 10 else {
                    throw .malformed(path: path, reason: "record \(r) (byte offset \(r * rs)) has label \(label), expected 0..<10")
                }
                labels.append(Int64(label))
                for b in raw[(r * rs + 1)..<((r + 1) * rs)] { pixels.append(Float(b) / 255) }
            }
        }
        self.images = Tensor(shape: [labels.count, 3, 32, 32], data: pixels)
        self.labels = Tensor(shape: [labels.count], data: labels)
    }

    /// Number of samples.
    public var count: Int { labels.shape[0] }
    /// Image `[3, 32, 32]` and label (0-d) of sample `index`.
    public subscript(index: Int) -> (Tensor, Tensor) { (images.select(0, index), labels.select(0, index)) }
    /// Images `[B, 3, 32, 32]` and labels `[B]` at `indices`.
    public func batch(_ indices: Tensor) -> (Tensor, Tensor) {
        (images.indexSelect(dim: 0, index: indices), labels.indexSelect(dim: 0, index: indices))
    }
}
