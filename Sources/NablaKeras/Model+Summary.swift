import NablaNN

extension Model {
    /// Keras' `model.summary()`: layers with their type, output shape and parameter count, then the
    /// totals (trainable and non-trainable). Functional models also list their inputs and each
    /// layer's inbound layers ("Connected to"). Prints the table and returns it.
    /// ```
    /// Model: "sequential_1"
    /// _________________________________________________________________
    /// Layer (type)                 Output Shape              Param #
    /// =================================================================
    /// dense_1 (Dense)              (None, 64)                50240
    /// ...
    /// ```
    @discardableResult
    public func summary(print shouldPrint: Bool = true) -> String {
        let text = summaryText()
        if shouldPrint { Swift.print(text) }
        return text
    }

    func summaryText() -> String {
        let functional = !(self is Sequential) && graph != nil
        let width = functional ? 98 : 65
        let stops = functional ? [33, 59, 71, 98] : [29, 55, 65]
        func row(_ fields: [String]) -> String {
            var line = ""
            for (i, f) in fields.enumerated() {
                if i > 0 && !line.hasSuffix(" ") { line += " " }
                line += f
                let target = i < stops.count ? stops[i] : line.count
                if line.count < target { line += String(repeating: " ", count: target - line.count) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
        var lines = ["Model: \"\(name)\""]
        let thin = String(repeating: "_", count: width), thick = String(repeating: "=", count: width)
        lines.append(thin)
        lines.append(row(functional ? ["Layer (type)", "Output Shape", "Param #", "Connected to"] : ["Layer (type)", "Output Shape", "Param #"]))
        lines.append(thick)
        var entries: [[String]] = []
        if let g = graph {
            if functional {
                for x in g.inputs { entries.append(["\(x.name) (InputLayer)", kerasShape(x.shape), "0", ""]) }
            }
            // Group the graph's nodes by layer, keeping the graph order.
            var order: [ObjectIdentifier] = []
            var byLayer: [ObjectIdentifier: (Layer, [GraphNode])] = [:]
            for n in g.nodes {
                guard let l = n.owner as? Layer else { continue }
                let k = ObjectIdentifier(l)
                if byLayer[k] == nil { order.append(k); byLayer[k] = (l, []) }
                byLayer[k]!.1.append(n)
            }
            for k in order {
                let (l, nodes) = byLayer[k]!
                let shape = nodes.count == 1 ? (nodes[0].outputSpecs.count == 1 ? kerasShape(nodes[0].outputSpecs[0].shape)
                                                 : nodes[0].outputSpecs.map { kerasShape($0.shape) }.joined(separator: ", "))
                                             : "multiple"
                var fields = ["\(l.name) (\(l.className))", shape, String(l.countParams())]
                if functional {
                    let inbound = nodes.flatMap { $0.inputs }.map { "\($0.node.name)[0][\($0.index)]" }
                    fields.append(inbound.first ?? "")
                    entries.append(fields)
                    for extra in inbound.dropFirst() { entries.append(["", "", "", extra]) }
                    continue
                }
                entries.append(fields)
            }
        } else {
            for l in layers { entries.append(["\(l.name) (\(l.className))", l.built ? "multiple" : "(unbuilt)", String(l.countParams())]) }
        }
        for (i, e) in entries.enumerated() {
            lines.append(row(e))
            let nextIsContinuation = i + 1 < entries.count && entries[i + 1][0].isEmpty
            if !nextIsContinuation { lines.append(i == entries.count - 1 ? thick : thin) }
        }
        if entries.isEmpty { lines.append(thick) }
        let trainable = trainableWeights.reduce(0) { $0 + $1.count }
        let nonTrainable = nonTrainableWeights.reduce(0) { $0 + $1.count }
        lines.append("Total params: \(Model.grouped(trainable + nonTrainable))")
        lines.append("Trainable params: \(Model.grouped(trainable))")
        lines.append("Non-trainable params: \(Model.grouped(nonTrainable))")
        lines.append(thin)
        return lines.joined(separator: "\n")
    }

    /// `50890` → `50,890`.
    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}
