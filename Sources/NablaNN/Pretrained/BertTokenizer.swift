import Foundation
import Nabla

/// BERT's WordPiece tokenizer, reading Hugging Face's `tokenizer.json` or a `vocab.txt` (`BertTokenizerFast`).
///
/// Reproduces Hugging Face's `input_ids` and `attention_mask`: special tokens written in the text (`[MASK]`)
/// are kept whole; BERT's normaliser removes NUL, U+FFFD and control/format characters (zero-width ones
/// included) and turns whitespace into spaces, puts spaces around CJK ideographs, strips accents (NFD, then
/// drops non-spacing marks) and lowercases when configured; the pre-tokeniser splits on whitespace and
/// isolates punctuation; WordPiece then matches the longest vocabulary entry greedily (`##` for
/// continuations), and a word without a match, or longer than `maxInputCharsPerWord`, becomes `[UNK]`.
/// ```swift
/// let tok = try BertTokenizer(folder: "all-MiniLM-L6-v2")
/// let batch = tok.encodeBatch(["Hello world!", "Grüße"], maxLength: 256)
/// batch.inputIds      // int64 [2, L], [CLS] ... [SEP] then [PAD]
/// batch.attentionMask // int64 [2, L]
/// ```
public struct BertTokenizer: Sendable {
    /// Token string to id.
    public let vocab: [String: Int]
    /// Id to token string.
    public let idToToken: [Int: String]
    /// Lowercase the text (`do_lower_case`).
    public let lowercase: Bool
    /// Strip accents; nil follows `lowercase`, as in Hugging Face.
    public let stripAccents: Bool?
    /// Put spaces around CJK ideographs (`tokenize_chinese_chars`).
    public let tokenizeChineseChars: Bool
    /// Remove control characters and normalise whitespace (`clean_text`).
    public let cleanText: Bool
    /// Words longer than this (in Unicode scalars) become `[UNK]`.
    public let maxInputCharsPerWord: Int
    /// The continuation prefix (`##`).
    public let continuingSubwordPrefix: String
    /// The special tokens: unknown, classifier, separator, padding.
    public let unkToken: String, clsToken: String, sepToken: String, padToken: String
    /// Tokens matched whole in the raw text before normalisation (`[CLS]`, `[MASK]`, ...), longest first.
    public let addedTokens: [String]
    /// The maximum length the tokenizer file asks for (its truncation setting), if any.
    public let configuredMaxLength: Int?

    /// Id of the unknown token.
    public var unkId: Int { vocab[unkToken] ?? 0 }
    /// Id of `[CLS]`.
    public var clsId: Int { vocab[clsToken] ?? 0 }
    /// Id of `[SEP]`.
    public var sepId: Int { vocab[sepToken] ?? 0 }
    /// Id of the padding token.
    public var padId: Int { vocab[padToken] ?? 0 }

    /// A tokenizer from a vocabulary and BERT's normaliser settings (`BertTokenizer(vocab_file, ...)`).
    public init(vocab: [String: Int], lowercase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseChars: Bool = true,
                cleanText: Bool = true, maxInputCharsPerWord: Int = 100, continuingSubwordPrefix: String = "##",
                unkToken: String = "[UNK]", clsToken: String = "[CLS]", sepToken: String = "[SEP]", padToken: String = "[PAD]",
                addedTokens: [String]? = nil, configuredMaxLength: Int? = nil) {
        self.vocab = vocab
        var inv: [Int: String] = [:]
        for (k, v) in vocab { inv[v] = k }
        self.idToToken = inv
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.tokenizeChineseChars = tokenizeChineseChars
        self.cleanText = cleanText
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.unkToken = unkToken; self.clsToken = clsToken; self.sepToken = sepToken; self.padToken = padToken
        let added = addedTokens ?? [padToken, unkToken, clsToken, sepToken, "[MASK]"].filter { vocab[$0] != nil }
        self.addedTokens = added.filter { !$0.isEmpty }.sorted { $0.unicodeScalars.count > $1.unicodeScalars.count }
        self.configuredMaxLength = configuredMaxLength
    }

    /// Reads a `vocab.txt` (one token per line, the line number is the id).
    public init(vocabFile path: String, lowercase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseChars: Bool = true) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw PretrainedError.missingFile(folder: path, what: "vocabulary file") }
        guard let text = String(data: data, encoding: .utf8) else { throw PretrainedError.badConfig(path: path, reason: "not UTF-8 text") }
        var vocab: [String: Int] = [:]
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        if lines.last == "" { lines.removeLast() }
        for (i, line) in lines.enumerated() {
            let tok = line.hasSuffix("\r") ? String(line.dropLast()) : line
            if vocab[tok] == nil { vocab[tok] = i }
        }
        guard vocab["[UNK]"] != nil else { throw PretrainedError.badConfig(path: path, reason: "vocabulary has no [UNK] token") }
        self.init(vocab: vocab, lowercase: lowercase, stripAccents: stripAccents, tokenizeChineseChars: tokenizeChineseChars)
    }

    /// Reads a Hugging Face `tokenizer.json` whose model is WordPiece with a BERT normaliser.
    public init(tokenizerJSON path: String) throws {
        let root = try readJSONObject(path)
        guard let model = root["model"] as? [String: Any], (model["type"] as? String) == "WordPiece" else {
            throw PretrainedError.unsupported(path: path, reason: "tokenizer model is not WordPiece")
        }
        guard let rawVocab = model["vocab"] as? [String: Any] else { throw PretrainedError.badConfig(path: path, reason: "model.vocab missing") }
        var vocab: [String: Int] = [:]
        for (k, v) in rawVocab {
            guard let n = v as? NSNumber, n.intValue >= 0, Double(n.intValue) == n.doubleValue else {
                throw PretrainedError.badConfig(path: path, reason: "vocab id of '\(k)' is not a non-negative integer")
            }
            vocab[k] = n.intValue
        }
        let unk = model["unk_token"] as? String ?? "[UNK]"
        guard vocab[unk] != nil else { throw PretrainedError.badConfig(path: path, reason: "vocabulary has no unk token '\(unk)'") }
        var lowercase = true, strip: Bool? = nil, chinese = true, clean = true
        if let norm = root["normalizer"] as? [String: Any] {
            guard (norm["type"] as? String) == "BertNormalizer" else {
                throw PretrainedError.unsupported(path: path, reason: "normalizer \(norm["type"] ?? "?") (only BertNormalizer)")
            }
            lowercase = (norm["lowercase"] as? Bool) ?? true
            strip = norm["strip_accents"] as? Bool
            chinese = (norm["handle_chinese_chars"] as? Bool) ?? true
            clean = (norm["clean_text"] as? Bool) ?? true
        } else {
            lowercase = false; chinese = false; clean = false
        }
        var added: [String] = []
        for t in root["added_tokens"] as? [[String: Any]] ?? [] { if let c = t["content"] as? String { added.append(c) } }
        var pad = "[PAD]"
        if let p = root["padding"] as? [String: Any], let t = p["pad_token"] as? String { pad = t }
        let maxLen = ((root["truncation"] as? [String: Any])?["max_length"] as? NSNumber)?.intValue
        self.init(vocab: vocab, lowercase: lowercase, stripAccents: strip, tokenizeChineseChars: chinese, cleanText: clean,
                  maxInputCharsPerWord: (model["max_input_chars_per_word"] as? NSNumber)?.intValue ?? 100,
                  continuingSubwordPrefix: model["continuing_subword_prefix"] as? String ?? "##",
                  unkToken: unk, padToken: pad,
                  addedTokens: added.isEmpty ? nil : added, configuredMaxLength: maxLen)
    }

    /// Reads the tokenizer of a model folder: `tokenizer.json` when present, else `vocab.txt` with the
    /// settings of `tokenizer_config.json` (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`).
    public init(folder: String) throws {
        let json = folder + "/tokenizer.json"
        if FileManager.default.fileExists(atPath: json) { try self.init(tokenizerJSON: json); return }
        let vocab = folder + "/vocab.txt"
        guard FileManager.default.fileExists(atPath: vocab) else { throw PretrainedError.missingFile(folder: folder, what: "tokenizer.json or vocab.txt") }
        var lower = true, strip: Bool? = nil, chinese = true
        let cfgPath = folder + "/tokenizer_config.json"
        if FileManager.default.fileExists(atPath: cfgPath) {
            let cfg = try readJSONObject(cfgPath)
            lower = cfg["do_lower_case"] as? Bool ?? true
            strip = cfg["strip_accents"] as? Bool
            chinese = cfg["tokenize_chinese_chars"] as? Bool ?? true
        }
        try self.init(vocabFile: vocab, lowercase: lower, stripAccents: strip, tokenizeChineseChars: chinese)
    }

    // MARK: tokenizing

    /// The WordPiece tokens of `text`, without special tokens (`tokenizer.tokenize(text)`).
    public func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        for piece in splitAddedTokens(text) {
            switch piece {
            case .added(let t): out.append(t)
            case .text(let s):
                for word in preTokenize(normalize(s)) { out.append(contentsOf: wordPiece(word)) }
            }
        }
        return out
    }

    /// The ids of `text`: `[CLS] tokens [SEP]`, truncated to `maxLength` ids in all (`tokenizer(text)["input_ids"]`).
    public func encode(_ text: String, maxLength: Int? = nil, addSpecialTokens: Bool = true) -> [Int] {
        var ids = tokenize(text).map { vocab[$0] ?? unkId }
        let specials = addSpecialTokens ? 2 : 0
        if let maxLength, ids.count + specials > maxLength { ids.removeLast(ids.count + specials - max(maxLength, specials)) }
        return addSpecialTokens ? [clsId] + ids + [sepId] : ids
    }

    /// The token strings of `ids` (`convert_ids_to_tokens`).
    public func convertIdsToTokens(_ ids: [Int]) -> [String] { ids.map { idToToken[$0] ?? unkToken } }

    /// Encodes several texts at once, padded to the longest (or to `maxLength` with `padToMaxLength`).
    ///
    /// `tokenizer(texts, padding=True, truncation=True, max_length=maxLength, return_tensors="pt")`.
    public func encodeBatch(_ texts: [String], maxLength: Int? = nil, padToMaxLength: Bool = false) -> BertEncoding {
        let seqs = texts.map { encode($0, maxLength: maxLength) }
        var width = seqs.map(\.count).max() ?? 0
        if padToMaxLength, let maxLength { width = max(width, maxLength) }
        var ids = [Int64](repeating: Int64(padId), count: seqs.count * width)
        var mask = [Int64](repeating: 0, count: seqs.count * width)
        for (i, s) in seqs.enumerated() {
            for (j, id) in s.enumerated() { ids[i * width + j] = Int64(id); mask[i * width + j] = 1 }
        }
        return BertEncoding(ids: seqs,
                            inputIds: Tensor(shape: [seqs.count, width], data: ids),
                            attentionMask: Tensor(shape: [seqs.count, width], data: mask),
                            tokenTypeIds: Tensor.zeros([seqs.count, width], dtype: .int64))
    }

    // MARK: stages

    enum Piece { case added(String), text(String) }

    /// Splits `text` around occurrences of the added tokens (matched on the raw text, longest first).
    func splitAddedTokens(_ text: String) -> [Piece] {
        guard !addedTokens.isEmpty, text.unicodeScalars.contains(where: { s in addedTokens.contains { $0.unicodeScalars.first == s } }) else {
            return [.text(text)]
        }
        let scalars = Array(text.unicodeScalars)
        let tokens = addedTokens.map { Array($0.unicodeScalars) }
        var out: [Piece] = []
        var start = 0, i = 0
        outer: while i < scalars.count {
            for (k, t) in tokens.enumerated() where i + t.count <= scalars.count && scalars[i] == t[0] {
                if Array(scalars[i..<(i + t.count)]) == t {
                    if start < i { out.append(.text(String(String.UnicodeScalarView(scalars[start..<i])))) }
                    out.append(.added(addedTokens[k]))
                    i += t.count
                    start = i
                    continue outer
                }
            }
            i += 1
        }
        if start < scalars.count { out.append(.text(String(String.UnicodeScalarView(scalars[start...])))) }
        return out
    }

    /// BERT's normaliser: clean text, pad CJK ideographs, strip accents, lowercase.
    func normalize(_ text: String) -> String {
        var v = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if cleanText {
                if s.value == 0 || s.value == 0xFFFD || BertTokenizer.isControl(s) { continue }
                if BertTokenizer.isWhitespace(s) { v.append(" "); continue }
            }
            if tokenizeChineseChars && BertTokenizer.isChineseChar(s) {
                v.append(" "); v.append(s); v.append(" ")
            } else {
                v.append(s)
            }
        }
        var out = String(v)
        if stripAccents ?? lowercase {
            let nfd = out.decomposedStringWithCanonicalMapping
            var w = String.UnicodeScalarView()
            for s in nfd.unicodeScalars where s.properties.generalCategory != .nonspacingMark { w.append(s) }
            out = String(w)
        }
        if lowercase {
            var w = String.UnicodeScalarView()
            for s in out.unicodeScalars {
                if s.isASCII { w.append(s.properties.isUppercase ? Unicode.Scalar(s.value + 32)! : s) }
                else { w.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars) }
            }
            out = String(w)
        }
        return out
    }

    /// BERT's pre-tokeniser: split on whitespace, and isolate every punctuation character.
    func preTokenize(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var cur: [Unicode.Scalar] = []
        for s in text.unicodeScalars {
            if s.properties.isWhitespace {
                if !cur.isEmpty { words.append(cur); cur = [] }
            } else if BertTokenizer.isPunctuation(s) {
                if !cur.isEmpty { words.append(cur); cur = [] }
                words.append([s])
            } else {
                cur.append(s)
            }
        }
        if !cur.isEmpty { words.append(cur) }
        return words
    }

    /// Greedy longest-match-first WordPiece of one word.
    func wordPiece(_ word: [Unicode.Scalar]) -> [String] {
        guard word.count <= maxInputCharsPerWord else { return [unkToken] }
        var out: [String] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var match: String?
            while start < end {
                var sub = String(String.UnicodeScalarView(word[start..<end]))
                if start > 0 { sub = continuingSubwordPrefix + sub }
                if vocab[sub] != nil { match = sub; break }
                end -= 1
            }
            guard let m = match else { return [unkToken] }
            out.append(m)
            start = end
        }
        return out
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Cc, Cf, Cs, Co and Cn, except tab, newline and carriage return (Hugging Face's `is_control`).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// ASCII punctuation (which includes `$ + < = > ^ \` | ~`) or any Unicode P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .closePunctuation, .finalPunctuation,
             .initialPunctuation, .otherPunctuation, .openPunctuation: return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT treats as one-character words.
    static func isChineseChar(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}

/// A padded batch of token ids (`BatchEncoding`): int64 tensors `[batch, length]` and the unpadded ids.
public struct BertEncoding {
    /// Each text's ids, `[CLS] ... [SEP]`, without padding.
    public let ids: [[Int]]
    /// Token ids `[batch, length]` (int64).
    public let inputIds: Tensor
    /// 1 for real tokens, 0 for padding `[batch, length]` (int64).
    public let attentionMask: Tensor
    /// Segment ids `[batch, length]` (all 0 for single sentences).
    public let tokenTypeIds: Tensor
}

/// The JSON object in the file at `path`.
func readJSONObject(_ path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else { throw PretrainedError.missingFile(folder: path, what: "file") }
    let obj: Any
    do { obj = try JSONSerialization.jsonObject(with: data) } catch {
        throw PretrainedError.badConfig(path: path, reason: "invalid JSON: \(error.localizedDescription)")
    }
    guard let dict = obj as? [String: Any] else { throw PretrainedError.badConfig(path: path, reason: "expected a JSON object") }
    return dict
}
