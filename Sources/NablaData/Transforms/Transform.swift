/// A data transform (torchvision's transforms): a value that maps an input to an output, drawing any
/// randomness from the generator it is given (the `DataLoader` passes each sample its own).
///
/// ```swift
/// let augment = Compose(RandomCrop(32, padding: 4), RandomHorizontalFlip(), Normalize(mean: [0.5], std: [0.5]))
/// let y = augment(x, generator: Generator(seed: 1))
/// ```
public protocol Transform<Input, Output> {
    /// What the transform takes (usually a `Tensor`).
    associatedtype Input
    /// What it returns (usually a `Tensor`).
    associatedtype Output
    /// Applies the transform; random transforms draw from `generator`.
    func apply(_ input: Input, generator: Generator) -> Output
}

extension Transform {
    /// Applies the transform (`transform(x)`); random transforms draw from `generator` (default: the global one).
    public func callAsFunction(_ input: Input, generator: Generator = .default) -> Output { apply(input, generator: generator) }

    /// This transform followed by `next`.
    public func then<Next: Transform>(_ next: Next) -> Chain<Self, Next> where Next.Input == Output { Chain(first: self, second: next) }
}

/// Two transforms one after the other, of any input and output types (built by `a.then(b)`).
public struct Chain<First: Transform, Second: Transform>: Transform where First.Output == Second.Input {
    /// Applied first.
    public let first: First
    /// Applied to the first one's output.
    public let second: Second
    /// Applies `first`, then `second`, with the same generator.
    public func apply(_ input: First.Input, generator: Generator) -> Second.Output {
        second.apply(first.apply(input, generator: generator), generator: generator)
    }
}

/// Tensor transforms applied in order (`torchvision.transforms.Compose`).
public struct Compose: Transform {
    /// The transforms, in order.
    public let transforms: [any Transform<Tensor, Tensor>]
    /// Composes `transforms` in order.
    public init(_ transforms: [any Transform<Tensor, Tensor>]) { self.transforms = transforms }
    /// Composes `transforms` in order.
    public init(_ transforms: any Transform<Tensor, Tensor>...) { self.transforms = transforms }
    /// Applies every transform in order, all drawing from `generator`.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        transforms.reduce(input) { x, t in t.apply(x, generator: generator) }
    }
}

/// A transform from a closure (`torchvision.transforms.Lambda`).
public struct Lambda<Input, Output>: Transform {
    /// The function.
    public let body: (Input, Generator) -> Output
    /// A transform that calls `body` (which may ignore the generator).
    public init(_ body: @escaping (Input, Generator) -> Output) { self.body = body }
    /// Calls the closure.
    public func apply(_ input: Input, generator: Generator) -> Output { body(input, generator) }
}

/// A dataset whose samples go through a transform (the `transform=` argument of torchvision's datasets).
///
/// ```swift
/// let train = try CIFAR10(root: dir).map(input: Compose(RandomCrop(32, padding: 4), RandomHorizontalFlip()))
/// ```
/// Inside a `DataLoader` every sample gets its own generator; a plain subscript draws a fresh seed from
/// the global generator.
public struct TransformedDataset<Base: Dataset, Sample>: Dataset {
    /// The underlying dataset.
    public let base: Base
    /// Maps a base sample to this dataset's sample.
    public let body: (Base.Sample, Generator) -> Sample

    /// Wraps `base`, transforming each sample with `body`.
    public init(_ base: Base, _ body: @escaping (Base.Sample, Generator) -> Sample) { self.base = base; self.body = body }

    /// Number of samples.
    public var count: Int { base.count }
    /// The transformed sample, with a generator seeded from the global one.
    public subscript(index: Int) -> Sample {
        sample(index, generator: Generator(seed: UInt64(Generator.default.nextUnit() * 9_007_199_254_740_992)))
    }
    /// The transformed sample, random transforms drawing from `generator`.
    public func sample(_ index: Int, generator: Generator) -> Sample {
        body(base.sample(index, generator: generator), generator)
    }
}

extension Dataset {
    /// This dataset with `transform` applied to every sample.
    public func map<T: Transform>(_ transform: T) -> TransformedDataset<Self, T.Output> where T.Input == Sample {
        TransformedDataset(self) { s, g in transform.apply(s, generator: g) }
    }

    /// This dataset with `transform` applied to the input of every `(input, target)` sample (torchvision's `transform=`).
    public func map<T: Transform, Target>(input transform: T) -> TransformedDataset<Self, (T.Output, Target)> where Sample == (T.Input, Target) {
        TransformedDataset(self) { s, g in (transform.apply(s.0, generator: g), s.1) }
    }

    /// This dataset with `transform` applied to the target of every `(input, target)` sample (`target_transform=`).
    public func map<T: Transform, Input>(target transform: T) -> TransformedDataset<Self, (Input, T.Output)> where Sample == (Input, T.Input) {
        TransformedDataset(self) { s, g in (s.0, transform.apply(s.1, generator: g)) }
    }
}

/// Checks that `x` is an image tensor `[..., C, H, W]` and returns its height and width.
func imageSize(_ x: Tensor, _ op: String) -> (h: Int, w: Int) {
    check(x.shape.count >= 2, "\(op): expected an image tensor [..., C, H, W] or [H, W], got shape \(x.shape)")
    return (x.shape[x.shape.count - 2], x.shape[x.shape.count - 1])
}

/// The `[top, top + height) × [left, left + width)` window of the last two dims of `x`; positions outside
/// the image are `fill` (used for padding crops).
func cropImage(_ x: Tensor, top: Int, left: Int, height: Int, width: Int, fill: Double = 0) -> Tensor {
    let (h, w) = imageSize(x, "crop")
    if top >= 0 && left >= 0 && top + height <= h && left + width <= w {
        return x.narrow(-2, start: top, length: height).narrow(-1, start: left, length: width).contiguous()
    }
    let planes = x.count / Swift.max(h * w, 1)
    let src = x.contiguous().toDoubleArray()
    var out = [Double](repeating: fill, count: planes * height * width)
    for p in 0..<planes {
        for i in 0..<height {
            let si = top + i
            guard si >= 0 && si < h else { continue }
            for j in 0..<width {
                let sj = left + j
                guard sj >= 0 && sj < w else { continue }
                out[(p * height + i) * width + j] = src[(p * h + si) * w + sj]
            }
        }
    }
    return Tensor(shape: Array(x.shape.dropLast(2)) + [height, width], data: out, dtype: x.dtype)
}
