/// Fashion-MNIST (or MNIST) from IDX files, as `torchvision.datasets.FashionMNIST`.
///
/// Defaults to the files of Debian's `dataset-fashion-mnist` package (`make deps` installs it).
/// Images are `float32` in [0, 1] with shape `[N, 1, 28, 28]`; labels are `int64` class indices.
public struct FashionMNIST: Dataset {
    /// Where Debian's package puts the files.
    public static let defaultRoot = "/usr/share/datasets/fashion-mnist"
    /// `[N, 1, 28, 28]` float32 in [0, 1].
    public let images: Tensor
    /// `[N]` int64.
    public let labels: Tensor

    /// Loads the training (`train: true`) or test split from `root` (plain or `.gz` files).
    public init(root: String = FashionMNIST.defaultRoot, train: Bool = true) throws(DatasetError) {
        let prefix = train ? "train" : "t10k"
        func find(_ name: String) -> String {
            let gz = "\(root)/\(name).gz"
            if let f = fopen(gz, "rb") { fclose(f); return gz }
            return "\(root)/\(name)"
        }
        let img = try IDXArray(path: find("\(prefix)-images-idx3-ubyte"))
        let lab = try IDXArray(path: find("\(prefix)-labels-idx1-ubyte"))
        guard img.shape.count == 3, lab.shape.count == 1, img.shape[0] == lab.shape[0] else {
            throw .badHeader(path: root, reason: "images \(img.shape) and labels \(lab.shape) do not match")
        }
        images = img.tensor(scale: true).reshape([img.shape[0], 1, img.shape[1], img.shape[2]])
        labels = lab.tensor(scale: false)
    }

    /// Number of samples.
    public var count: Int { labels.shape[0] }
    /// Image `[1, 28, 28]` and label (0-d) of sample `index`.
    public subscript(index: Int) -> (Tensor, Tensor) { (images.select(0, index), labels.select(0, index)) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
