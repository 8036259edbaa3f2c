import ArgumentParser
import Foundation
import NablaCLI

/// The `nabla` command: Caffe-style training, evaluation and prediction from one YAML config.
@main
struct NablaTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nabla",
        abstract: "Train, evaluate and inspect Nabla models described by one YAML config file.",
        discussion: "A config holds the data, the model (a layer list) and the solver; see Examples/configs/.",
        subcommands: [Train.self, Eval.self, Predict.self, Summary.self, Graph.self, Export.self, Serve.self, Demo.self, Tokenize.self, Embed.self, Search.self]
    )
}

/// Runs `body`; a config problem or another failure is printed to stderr as one line
/// (`file:line:column: field: message` for configs) and the command exits with status 1.
func reportingErrors<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as ConfigError {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        throw ExitCode(1)
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
