import Foundation
import Testing
import Nabla
import NablaTestSupport

/// `load(from:)` on files that are not safetensors says so, instead of reading a header length from text.
@Suite struct LoadFormatTests {
    private func message(_ path: String) -> String {
        do { _ = try load(from: path); return "no error" } catch { return "\(error)" }
    }

    @Test func aCSVTableIsNotSafetensors() {
        let path = scratchPath("iris.csv")
        writeBytes(Array("sepal_length,sepal_width,species\n5.1,3.5,0\n".utf8), path)
        let m = message(path)
        #expect(m.contains("not a safetensors file") && m.contains("CSVDataset") && m.contains(".npy and .npz"), "\(m)")
        #expect(!m.contains("header length"), "\(m)")
    }

    @Test func aLatestPointerIsNamedAsOne() {
        let path = scratchPath("latest")
        writeBytes(Array("epoch-0003.safetensors\n".utf8), path)
        let m = message(path)
        #expect(m.contains("not a safetensors file") && m.contains("naming 'epoch-0003.safetensors'"), "\(m)")
    }

    @Test func npyAndZipBytesUnderAnotherExtensionAreNamed() throws {
        let npy = scratchPath("x.npy"), odd = scratchPath("x.weights")
        try saveNpy(Tensor([1.0, 2.0]), to: npy)
        writeBytes(readBytes(npy), odd)
        #expect(message(odd).contains(".npy magic"))
        writeBytes([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 30), odd)
        #expect(message(odd).contains("zip archive"))
        let pt = scratchPath("m.pt")   // .pt goes to loadTorch, which refuses a zip with no records
        writeBytes([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 30), pt)
        #expect(message(pt) != "no error")
    }

    @Test func realSafetensorsStillLoadAndTruncatedOnesStillSayTruncated() throws {
        let path = scratchPath("w.safetensors")
        try save(StateDict([("w", Tensor([1.0, 2.0, 3.0]))]), to: path)
        #expect(try load(from: path)["w"]?.toFloatArray() == [1, 2, 3])
        let bytes = readBytes(path)
        writeBytes(Array(bytes.prefix(20)), path)
        #expect(message(path).contains("truncated"), "\(message(path))")
    }
}
