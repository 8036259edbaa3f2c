import Foundation
import Testing
import NablaNN
import NablaTestSupport

/// A module case of `Scripts/fixtures/rnn.py`: the data inputs, then the torch module's parameters under their
/// `state_dict` names ("param_names"), outputs, and gradients for the floating data inputs and every parameter.
struct ModuleFixture {
    private struct Names: Decodable { let cases: [Entry] }
    private struct Entry: Decodable { let name: String; let param_names: [String]? }

    let fixture: FixtureCase
    let paramNames: [String]

    init(_ file: String, _ name: String) {
        fixture = loadFixture(file)[name]
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(file + ".json")
        let names = (try? JSONDecoder().decode(Names.self, from: Data(contentsOf: url)))?.cases.first { $0.name == name }
        paramNames = names?.param_names ?? []
    }

    /// The data inputs (everything before the parameters), as fresh leaves (floating ones require grad).
    func dataInputs() -> [Tensor] {
        fixture.inputs.prefix(fixture.inputs.count - paramNames.count).map { f in
            let t = f.tensor
            return t.dtype.isFloatingPoint ? t.requiresGrad_() : t
        }
    }

    /// Copies the fixture's parameters into `module`'s parameters of the same name; every name must match both ways.
    func load(into module: Module) {
        let ours = module.namedParameters()
        #expect(Set(ours.map(\.0)) == Set(paramNames), "parameter names: ours \(ours.map(\.0)), PyTorch's \(paramNames)")
        let values = fixture.inputs.suffix(paramNames.count)
        for (name, value) in zip(paramNames, values) {
            guard let p = ours.first(where: { $0.0 == name })?.1 else { continue }
            let t = value.tensor
            #expect(p.shape == t.shape, "\(name): shape \(p.shape), PyTorch's \(t.shape)")
            if p.shape == t.shape { noGrad { _ = p.copy_(t.to(p.dtype)) } }
        }
    }

    /// Compares `outputs` with PyTorch's, then the gradients of `sum(outputs[0] * upstream)` w.r.t. the floating
    /// `inputs` and the parameters (in `param_names` order).
    func verify(_ outputs: [Tensor], inputs: [Tensor], module: Module, rtol: Double = 1e-6, atol: Double = 1e-8) {
        #expect(outputs.count == fixture.outputs.count, "\(fixture.name): \(outputs.count) outputs, PyTorch gave \(fixture.outputs.count)")
        for (i, (o, e)) in zip(outputs, fixture.outputs).enumerated() {
            let r = allClose(o, e.tensor.to(o.dtype), rtol: rtol, atol: atol)
            #expect(r.ok, "\(fixture.name) output \(i): \(r.failure)")
        }
        guard let up = fixture.upstream, let expected = fixture.grads else { return }
        let params = module.namedParameters()
        let wrt = inputs.filter { $0.dtype.isFloatingPoint } + paramNames.compactMap { n in params.first { $0.0 == n }?.1 }
        let gs = gradients(of: [(outputs[0] * up.tensor.to(outputs[0].dtype)).sum()], wrt: wrt, allowUnused: true)
        #expect(gs.count == expected.count)
        let labels = inputs.filter { $0.dtype.isFloatingPoint }.indices.map { "input \($0)" } + paramNames
        for (i, (g, e)) in zip(gs, expected).enumerated() {
            let got = g ?? Tensor.zerosLike(wrt[i])
            let r = allClose(got, e.tensor.to(got.dtype), rtol: rtol, atol: atol)
            #expect(r.ok, "\(fixture.name) grad of \(labels[i]): \(r.failure)")
        }
    }
}
