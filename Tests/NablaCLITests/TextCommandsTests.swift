import Foundation
import NablaCLI
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
private let miniLM = packageRoot + "/.build/models/all-MiniLM-L6-v2"
private let miniLMAvailable = ProcessInfo.processInfo.environment["CI"] == "true"
    || FileManager.default.fileExists(atPath: miniLM + "/model.safetensors")

private func scratch(_ text: String) throws -> String {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-text-\(UUID().uuidString).txt").path
    try text.write(toFile: p, atomically: true, encoding: .utf8)
    return p
}

@Suite struct TextCommandsTests {
    @Test func readLines() throws {
        #expect(try TextCommands.readLines(try scratch("a\nb\r\n\nc\n")) == ["a", "b", "", "c"])
        #expect(try TextCommands.readLines(try scratch("")) == [])
        #expect(throws: PretrainedError.self) { try TextCommands.readLines("/nonexistent/file.txt") }
    }

    @Test(.enabled(if: miniLMAvailable, "run `make models`"))
    func tokenizeMatchesHuggingFace() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Tests/Fixtures/minilm.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        // Lines of the file must be single lines: drop texts with line breaks.
        let usable = cases.filter { !(($0["text"] as? String) ?? "\n").contains(where: \.isNewline) }
        try #require(usable.count >= 20)
        let tok = try BertTokenizer(folder: miniLM)
        let maxLen = try TextCommands.maxLength(folder: miniLM, tokenizer: tok)
        #expect(maxLen == 256)
        let input = try scratch(usable.map { $0["text"] as! String }.joined(separator: "\n") + "\n")
        let lines = TextCommands.tokenize(try TextCommands.readLines(input), tokenizer: tok, maxLength: maxLen)
        #expect(lines == usable.map { (($0["ids"] as? [NSNumber]) ?? []).map { String($0.intValue) }.joined(separator: " ") })
    }

    @Test(.enabled(if: miniLMAvailable, "run `make models`"))
    func searchRanksTheParaphraseFirst() throws {
        let embedder = try SentenceEmbedder(folder: miniLM)
        let corpus = ["The new movie is awesome", "A man is playing guitar.", "The cat sits outside", "Do you like pizza?",
                      "I love programming in Swift.", "Someone plays an instrument", "Stock markets fell today"]
        let hits = TextCommands.search("A person plays the guitar", corpus: corpus, embedder: embedder, k: 5)
        #expect(hits.count == 5)
        #expect(hits.first?.text == "A man is playing guitar.")
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
    }
}
