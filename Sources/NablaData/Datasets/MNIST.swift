/// MNIST handwritten digits from IDX files in any folder, as `torchvision.datasets.MNIST`.
///
/// `root` holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte` (plain or `.gz`), the layout of the original distribution.
/// Images are `float32` in [0, 1] with shape `[N, 1, H, W]`; labels are `int64` class indices.
///
/// ```swift
/// let train = try MNIST(root: "data/mnist", train: true)
/// let (x, y) = train[0]   // [1, 28, 28], 0-d
/// ```
public struct MNIST: BatchDataset, Sendable {
    /// The class names, in label order.
    public static let classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
                                 "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    /// `[N, 1, H, W]` float32 in [0, 1].
    public let images: Tensor
    /// `[N]` int64.
    public let labels: Tensor

    /// Loads the training (`train: true`) or test split from `root`; throws `DatasetError` on a missing,
    /// truncated or malformed file.
    public init(root: String, train: Bool = true) throws(DatasetError) {
        (images, labels) = try loadIDXImagesAndLabels(root: root, train: train)
    }

    /// Number of samples.
    public var count: Int { labels.shape[0] }
    /// Image `[1, H, W]` and label (0-d) of sample `index`.
    public subscript(index: Int) -> (Tensor, Tensor) { (images.select(0, index), labels.select(0, index)) }
    /// Images `[B, 1, H, W]` and labels `[B]` at `indices`.
    public func batch(_ indices: Tensor) -> (Tensor, Tensor) {
        (images.indexSelect(dim: 0, index: indices), labels.indexSelect(dim: 0, index: indices))
    }
}
