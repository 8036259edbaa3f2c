import Foundation
import Testing
import NablaData
import NablaTestSupport

/// The dataset readers on the malformed files a fuzzer found: they throw `DatasetError`, never trap or hang,
/// and bound what they inflate.
@Suite struct DataReliabilityTests {
    @Test func idxWithHugeZeroElementShapeThrows() {
        let e = #expect(throws: DatasetError.self) { _ = try IDXArray(path: reliabilityFixture("idx_zero_huge.idx")) }
        #expect(e?.description.contains("idx_zero_huge.idx") == true)
    }

    @Test(.timeLimit(.minutes(1)))
    func idxWithBillionsOfEmptyRowsThrowsAtOnce() {
        let e = #expect(throws: DatasetError.self) { _ = try IDXArray(path: reliabilityFixture("idx_empty_rows_hang.idx")) }
        #expect(e?.description.contains("ReaderLimits.maxElements") == true)
    }

    @Test func idxEmptyArrayConverts() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try IDXArray(path: dir.write("e.idx", idxBytes([3, 0, 5], [])))
        #expect(a.tensor(scale: true).to(.float64).shape == [3, 0, 5])
        #expect(a.tensor(scale: false).toDoubleArray().isEmpty)
    }

    @Test func idxDeclaringMoreThanTheLimitThrowsBeforeReading() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = dir.write("big.idx", idxBytes([1000, 1000], [1, 2, 3]))
        ReaderLimits.with(ReaderLimits(maxDecompressedBytes: 10_000)) {
            let e = #expect(throws: DatasetError.self) { _ = try IDXArray(path: p) }
            #expect(e?.description.contains("ReaderLimits.maxDecompressedBytes") == true)
        }
        #expect(throws: DatasetError.truncated(path: p, expected: 1_000_012, got: 15)) { _ = try IDXArray(path: p) }
    }

    @Test func gzipIsCappedByTheLimit() throws {
        let bomb = reliabilityFixture("gzip_bomb.csv.gz")   // 16 MiB of "1,2\n" in a few KB
        ReaderLimits.with(ReaderLimits(maxDecompressedBytes: 1 << 20)) {
            let e = #expect(throws: DatasetError.self) { _ = try readMaybeGzip(bomb) }
            #expect(e?.description.contains("ReaderLimits.maxDecompressedBytes") == true)
            #expect(throws: DatasetError.self) { _ = try CSVDataset(bomb) }
        }
        #expect(throws: DatasetError.self) { _ = try readMaybeGzip(bomb, limit: 1000) }
        #expect(try readMaybeGzip(bomb).count == 16 << 20)
    }

    @Test func dataLoaderRejectsAnEmptyEpoch() throws {
        let loader = DataLoader(TensorDataset(Tensor.zeros([4, 2]), Tensor.zeros([4])), batchSize: 2, shuffle: true)
        var state = loader.stateDict()
        state["epoch"] = Tensor.zeros([0], dtype: .int64)
        let e = #expect(throws: StateDictError.self) { try loader.loadStateDict(state, strict: false) }
        #expect(e?.description.contains("'epoch'") == true)
        state["epoch"] = Tensor(Double.nan, dtype: .float64)
        #expect(throws: StateDictError.self) { try loader.loadStateDict(state, strict: false) }
    }
}
