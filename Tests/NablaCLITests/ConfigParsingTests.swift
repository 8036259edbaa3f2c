import Foundation
import NablaCLI
import Testing

/// Parses `text` as a config named `t.yaml` and returns the error it raises (nil when it parses and builds).
private func configError(_ text: String) -> ConfigError? {
    do {
        let config = try TrainConfig(text: text, path: "t.yaml")
        _ = try BuiltModel(config.model)
        return nil
    } catch let e as ConfigError {
        return e
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// A valid config with `layers` and `solver` lines substituted.
private func config(layers: String = "    - flatten\n    - linear: 10\n", input: String = "[1, 28, 28]",
                    solver: String = "solver:\n  epochs: 1\n") -> String {
    "data:\n  dataset: fashion-mnist\nmodel:\n  input: \(input)\n  layers:\n" + layers + solver
}

@Suite struct ConfigParsingTests {
    @Test func validConfigParses() throws {
        let c = try TrainConfig(text: config(), path: "t.yaml")
        #expect(c.name == "t")
        #expect(c.solver.optimizer == "adam" && c.solver.lr == 0.001 && c.solver.batchSize == 64)
        #expect(c.data.dataset == "fashion_mnist" && c.output == "runs/t")
        #expect(try BuiltModel(c.model).outputShape == [10])
    }

    @Test func compileIsATopLevelBoolean() throws {
        #expect(try TrainConfig(text: config(), path: "t.yaml").compile == false)
        #expect(try TrainConfig(text: "compile: true\n" + config(), path: "t.yaml").compile == true)
        let e = try #require(configError("compile: fast\n" + config()))
        #expect(e.field == "compile" && e.line == 1, "\(e)")
    }

    @Test func unknownLayer() throws {
        let e = try #require(configError(config(layers: "    - flatten\n    - conv3d: {out_channels: 3}\n")))
        #expect((e.file, e.line, e.column, e.field) == ("t.yaml", 7, 7, "model.layers[1]"))
        #expect(e.message.hasPrefix("unknown layer 'conv3d'"))
        let bare = try #require(configError(config(layers: "    - flatten\n    - relux\n")))
        #expect((bare.line, bare.column, bare.field) == (7, 7, "model.layers[1]"))
        #expect(bare.message.hasPrefix("unknown layer 'relux'"))
    }

    @Test func wrongType() throws {
        let e = try #require(configError(config(layers: "    - conv2d: {out_channels: 8, kernel_size: three}\n")))
        #expect(e.description == "t.yaml:6:46: model.layers[0].conv2d.kernel_size: expected an integer, got \"three\"")
        let lr = try #require(configError(config(solver: "solver:\n  epochs: 1\n  lr: fast\n")))
        #expect((lr.line, lr.column, lr.field) == (10, 7, "solver.lr"))
    }

    @Test func missingField() throws {
        let e = try #require(configError(config(solver: "solver:\n  lr: 0.01\n")))
        #expect((e.line, e.column, e.field) == (9, 3, "solver.epochs"))
        #expect(e.message.contains("missing required field 'epochs'"))
        let noModel = try #require(configError("data: {dataset: mnist, root: data}\nsolver: {epochs: 1}\n"))
        #expect(noModel.field == "model")
    }

    @Test func unknownKey() throws {
        let e = try #require(configError(config(solver: "solver:\n  epochs: 1\n  lerning_rate: 0.1\n")))
        #expect((e.line, e.column, e.field) == (10, 3, "solver.lerning_rate"))
        #expect(e.message.hasPrefix("unknown field 'lerning_rate'; expected one of optimizer, lr"))
        let layerArg = try #require(configError(config(layers: "    - linear: {out_features: 10, biass: false}\n")))
        #expect((layerArg.line, layerArg.field) == (6, "model.layers[0].linear.biass"))
    }

    @Test func kernelLargerThanInput() throws {
        let e = try #require(configError(config(layers: "    - conv2d: {out_channels: 4, kernel_size: 5}\n", input: "[1, 3, 3]")))
        #expect((e.line, e.column, e.field) == (6, 46, "model.layers[0].conv2d.kernel_size"))
        #expect(e.message.contains("kernel 5 is larger than the input size 3"))
        let pool = try #require(configError(config(layers: "    - max_pool2d: 2\n    - max_pool2d: 4\n", input: "[1, 6, 6]")))
        #expect((pool.line, pool.field) == (7, "model.layers[1].max_pool2d"))
        #expect(pool.message.contains("kernel 4 is larger than the input size 3"))
    }

    @Test func maxPoolOnFlatInput() throws {
        let e = try #require(configError(config(layers: "    - flatten\n    - max_pool2d: 2\n")))
        #expect(e.description == "t.yaml:7:7: model.layers[1]: layer max_pool2d expects a [C, H, W] input, got shape [784] (batch excluded)")
    }

    @Test func malformedYAML() throws {
        let e = try #require(configError("data:\n  dataset: [fashion-mnist\nsolver: {epochs: 1}\n"))
        #expect(e.file == "t.yaml" && e.line == 3 && e.message.hasPrefix("YAML syntax error"))
        let top = try #require(configError("- just\n- a list\n"))
        #expect(top.line == 1 && top.message.contains("expected a mapping"))
    }

    @Test func emptyFile() throws {
        let e = try #require(configError(""))
        #expect(e.description == "t.yaml: the file is empty; expected a mapping with model, solver and data")
        #expect(configError("# only a comment\n") != nil)
    }

    @Test func missingFile() {
        #expect(throws: ConfigError(file: "/nonexistent/x.yaml", line: 0, column: 0, field: "",
                                    message: "cannot read the config file (missing or unreadable)")) {
            try TrainConfig(contentsOf: "/nonexistent/x.yaml")
        }
    }

    @Test func solverAndPolicies() throws {
        let c = try TrainConfig(text: config(solver: "solver:\n  optimizer: SGD\n  momentum: 0.9\n  epochs: 4\n  lr_policy: {type: multistep, milestones: [2, 3], gamma: 0.5}\n"),
                                path: "t.yaml")
        #expect(c.solver.optimizer == "sgd" && c.solver.momentum == 0.9 && c.solver.lr == 0.01)
        #expect(c.solver.lrPolicy == .multistep(milestones: [2, 3], gamma: 0.5))
        let bad = try #require(configError(config(solver: "solver:\n  epochs: 1\n  lr_policy: {type: step}\n")))
        #expect(bad.field == "solver.lr_policy.step_size")
        let mnist = try #require(configError("data: {dataset: mnist}\nmodel: {input: [4], layers: [relu]}\nsolver: {epochs: 1}\n"))
        #expect(mnist.field == "data.dataset" && mnist.message.contains("needs 'root'"))
    }
}
