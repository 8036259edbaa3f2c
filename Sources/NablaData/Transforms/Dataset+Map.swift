// Transforming one element of a sample, whatever the sample's form: `(input, target)` tuples and `[Tensor]`
// lists (a `TensorDataset` of several tensors), as torchvision's `transform=` and `target_transform=` do.

extension Dataset {
    /// This dataset with `transform` applied to the input of every `(input, target)` sample (torchvision's
    /// `transform=`): a tensor transform given to a dataset of pairs transforms the input.
    ///
    /// ```swift
    /// let ds = TensorDataset(images, labels).map(Normalize(mean: [0.5], std: [0.5]))   // same as map(input:)
    /// ```
    public func map<T: Transform, Target>(_ transform: T) -> TransformedDataset<Self, (T.Output, Target)> where Sample == (T.Input, Target) {
        map(input: transform)
    }

    /// This dataset with `transform` applied to element 0 (the input) of every `[Tensor]` sample (torchvision's
    /// `transform=`), for a `TensorDataset([x, y])` or of three or more tensors.
    public func map<T: Transform>(input transform: T) -> TransformedDataset<Self, [Tensor]>
    where Sample == [Tensor], T.Input == Tensor, T.Output == Tensor {
        map(element: 0, transform)
    }

    /// This dataset with `transform` applied to element 1 (the target) of every `[Tensor]` sample (torchvision's
    /// `target_transform=`).
    public func map<T: Transform>(target transform: T) -> TransformedDataset<Self, [Tensor]>
    where Sample == [Tensor], T.Input == Tensor, T.Output == Tensor {
        map(element: 1, transform)
    }

    /// This dataset with `transform` applied to element `index` of every `[Tensor]` sample (no PyTorch twin: a
    /// `Dataset.__getitem__` that transforms one field).
    /// - Precondition: every sample has more than `index` elements.
    public func map<T: Transform>(element index: Int, _ transform: T) -> TransformedDataset<Self, [Tensor]>
    where Sample == [Tensor], T.Input == Tensor, T.Output == Tensor {
        TransformedDataset(self) { s, g in
            check(index < s.count, "map(element: \(index)): the sample has \(s.count) tensors")
            var out = s
            out[index] = transform.apply(s[index], generator: g)
            return out
        }
    }

    /// This dataset with every sample passed through `body` (a `Dataset` whose `__getitem__` post-processes
    /// another's), e.g. `ds.map { x, y in (x.flatten(), y) }`.
    public func map<NewSample>(_ body: @escaping (Sample) -> NewSample) -> TransformedDataset<Self, NewSample> {
        TransformedDataset(self) { s, _ in body(s) }
    }
}
