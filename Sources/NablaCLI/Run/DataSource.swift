import NablaData

/// The data of a config: the dataset's splits loaded (and limited), the validation split held out with a
/// seeded permutation, and the per-batch input preparation (reshape to the model's input, normalisation).
public struct DataSource {
    /// Training images (validation samples removed), `[N, ...]`.
    public let trainImages: Tensor
    /// Training labels, int64 `[N]`.
    public let trainLabels: Tensor
    /// Held-out validation images, or nil without `validation_split`.
    public let valImages: Tensor?
    /// Held-out validation labels.
    public let valLabels: Tensor?
    /// Test images.
    public let testImages: Tensor
    /// Test labels.
    public let testLabels: Tensor
    /// Shape of one sample as the dataset gives it (`[1, 28, 28]`).
    public let sampleShape: [Int]
    /// The class names, in label order.
    public let classNames: [String]
    /// The model's input shape (batch excluded).
    public let inputShape: [Int]
    private let mean: Tensor?
    private let std: Tensor?

    /// Loads the dataset of `config` and checks it against the model's input shape; `train: false` skips
    /// the training split (evaluation and prediction).
    /// - Throws: `ConfigError` located at the data section or `model.input` when they do not fit.
    public init(config: TrainConfig, train: Bool = true) throws {
        let d = config.data
        let datasetNode = try d.node.required("dataset"), rootNode = try d.node.optional("root")
        func load(_ isTrain: Bool) throws -> (Tensor, Tensor) {
            do {
                switch d.dataset {
                case "mnist":
                    let ds = try MNIST(root: d.root ?? "", train: isTrain); return (ds.images, ds.labels)
                case "cifar10":
                    let ds = try CIFAR10(root: d.root ?? "", train: isTrain); return (ds.images, ds.labels)
                default:
                    let ds = try FashionMNIST(root: d.root ?? FashionMNIST.defaultRoot, train: isTrain); return (ds.images, ds.labels)
                }
            } catch {
                throw (rootNode ?? datasetNode).error("cannot load the \(isTrain ? "training" : "test") split of \(d.dataset): \(error)")
            }
        }
        func limited(_ pair: (Tensor, Tensor)) -> (Tensor, Tensor) {
            guard let limit = d.limit, limit < pair.1.shape[0] else { return pair }
            return (pair.0.narrow(0, start: 0, length: limit), pair.1.narrow(0, start: 0, length: limit))
        }
        (testImages, testLabels) = limited(try load(false))
        classNames = switch d.dataset {
        case "mnist": MNIST.classes
        case "cifar10": CIFAR10.classes
        default: FashionMNIST.classes
        }
        sampleShape = Array(testImages.shape.dropFirst())
        inputShape = config.model.input
        let sampleCount = sampleShape.reduce(1, *)
        guard inputShape.reduce(1, *) == sampleCount else {
            throw config.model.inputNode.error("the model input \(inputShape) does not fit the \(d.dataset) samples of shape "
                                               + "\(sampleShape) (\(sampleCount) values)")
        }
        if d.mean.isEmpty {
            mean = nil; std = nil
        } else {
            let channels = sampleShape.first ?? 1
            guard d.mean.count == 1 || d.mean.count == channels else {
                throw try d.node.required("normalize").error("expected 1 or \(channels) mean/std values (one per channel of \(sampleShape)), got \(d.mean.count)")
            }
            let bshape = [d.mean.count] + Array(repeating: 1, count: max(0, sampleShape.count - 1))
            mean = Tensor(shape: bshape, data: d.mean.map { Float($0) })
            std = Tensor(shape: bshape, data: d.std.map { Float($0) })
        }
        guard train else {
            trainImages = testImages.narrow(0, start: 0, length: 0); trainLabels = testLabels.narrow(0, start: 0, length: 0)
            valImages = nil; valLabels = nil
            return
        }
        let (images, labels) = limited(try load(true))
        let n = labels.shape[0]
        let nVal = Int((Double(n) * d.validationSplit).rounded())
        if d.validationSplit > 0 {
            guard nVal > 0 && nVal < n else {
                throw try d.node.required("validation_split").error("holds out \(nVal) of \(n) samples; expected at least one for each side")
            }
            let perm = Tensor.randperm(n, generator: Generator(seed: config.seed &+ 0x9E37_79B9))
            let trainIdx = perm.narrow(0, start: 0, length: n - nVal), valIdx = perm.narrow(0, start: n - nVal, length: nVal)
            trainImages = images.indexSelect(dim: 0, index: trainIdx); trainLabels = labels.indexSelect(dim: 0, index: trainIdx)
            valImages = images.indexSelect(dim: 0, index: valIdx); valLabels = labels.indexSelect(dim: 0, index: valIdx)
        } else {
            trainImages = images; trainLabels = labels; valImages = nil; valLabels = nil
        }
    }

    /// Number of classes.
    public var numClasses: Int { classNames.count }

    /// A batch as the model takes it: reshaped to `[B] + inputShape` and normalised.
    public func prepare(_ x: Tensor) -> Tensor {
        var x = x
        if let mean, let std {
            x = (x.reshape([x.shape[0]] + sampleShape) - mean) / std
        }
        return x.reshape([x.shape[0]] + inputShape)
    }
}
