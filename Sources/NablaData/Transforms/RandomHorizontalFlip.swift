/// Flips an image left-right with probability `p` (`torchvision.transforms.RandomHorizontalFlip`).
public struct RandomHorizontalFlip: Transform {
    /// Probability of flipping.
    public let p: Double
    /// A flip with probability `p` (default 0.5).
    public init(p: Double = 0.5) {
        check(p >= 0 && p <= 1, "RandomHorizontalFlip: p must lie in [0, 1], got \(p)")
        self.p = p
    }
    /// The image, flipped along its last dim when a draw from `generator` falls below `p`.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        _ = imageSize(input, "RandomHorizontalFlip")
        return generator.nextUnit() < p ? input.flip(-1).contiguous() : input
    }
}
