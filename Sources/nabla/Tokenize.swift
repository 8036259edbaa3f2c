import ArgumentParser
import NablaCLI

/// `nabla tokenize --model DIR --input sentences.txt`: one line of token ids per input line.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the WordPiece ids of each line of a text file.",
        discussion: "One line of space-separated ids per input line, [CLS] and [SEP] included, no padding, truncated at the model's max_seq_length.")

    @Option(help: "A Hugging Face / sentence-transformers model folder (tokenizer.json or vocab.txt).") var model: String
    @Option(help: "A UTF-8 text file, one text per line.") var input: String
    @Option(help: "Truncate at this many ids (default: the folder's max_seq_length).") var maxLength: Int?

    func run() throws {
        try reportingErrors {
            let tok = try BertTokenizer(folder: model)
            let maxLen = try maxLength ?? TextCommands.maxLength(folder: model, tokenizer: tok)
            for line in TextCommands.tokenize(try TextCommands.readLines(input), tokenizer: tok, maxLength: maxLen) { print(line) }
        }
    }
}
