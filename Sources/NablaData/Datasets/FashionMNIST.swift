#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fashion-MNIST from IDX files, as `torchvision.datasets.FashionMNIST`.
///
/// Defaults to the files of Debian's `dataset-fashion-mnist` package (`make deps` installs it).
/// Images are `float32` in [0, 1] with shape `[N, 1, 28, 28]`; labels are `int64` class indices.
public struct FashionMNIST: BatchDataset, Sendable {
    /// Where Debian's package puts the files.
    public static let defaultRoot = "/usr/share/datasets/fashion-mnist"
    /// The class names, in label order.
    public static let classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    /// `[N, 1, 28, 28]` float32 in [0, 1].
    public let images: Tensor
    /// `[N]` int64.
    public let labels: Tensor

    /// Loads the training (`train: true`) or test split from `root` (plain or `.gz` files).
    public init(root: String = FashionMNIST.defaultRoot, train: Bool = true) throws(DatasetError) {
        (images, labels) = try loadIDXImagesAndLabels(root: root, train: train)
    }

    /// Number of samples.
    public var count: Int { labels.shape[0] }
    /// Image `[1, 28, 28]` and label (0-d) of sample `index`.
    public subscript(index: Int) -> (Tensor, Tensor) { (images.select(0, index), labels.select(0, index)) }
    /// Images `[B, 1, 28, 28]` and labels `[B]` at `indices`.
    public func batch(_ indices: Tensor) -> (Tensor, Tensor) {
        (images.indexSelect(dim: 0, index: indices), labels.indexSelect(dim: 0, index: indices))
    }
}

/// Reads `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` from `root`: images `[N, 1, H, W]` float32
/// in [0, 1] and labels `[N]` int64, checking that they match.
func loadIDXImagesAndLabels(root: String, train: Bool) throws(DatasetError) -> (Tensor, Tensor) {
    let prefix = train ? "train" : "t10k"
    func find(_ name: String) -> String {
        let gz = "\(root)/\(name).gz"
        if let f = fopen(gz, "rb") { fclose(f); return gz }
        return "\(root)/\(name)"
    }
    let imgPath = find("\(prefix)-images-idx3-ubyte"), labPath = find("\(prefix)-labels-idx1-ubyte")
    let img = try IDXArray(path: imgPath)
    let lab = try IDXArray(path: labPath)
    guard img.shape.count == 3 else { throw .badHeader(path: imgPath, reason: "images need 3 dimensions [N, H, W], got \(img.shape)") }
    guard lab.shape.count == 1 else { throw .badHeader(path: labPath, reason: "labels need 1 dimension [N], got \(lab.shape)") }
    guard img.shape[0] == lab.shape[0] else {
        throw .malformed(path: root, reason: "\(img.shape[0]) images in \(imgPath) but \(lab.shape[0]) labels in \(labPath)")
    }
    let images = img.tensor(scale: true).reshape([img.shape[0], 1, img.shape[1], img.shape[2]])
    return (images, lab.tensor(scale: false))
}
