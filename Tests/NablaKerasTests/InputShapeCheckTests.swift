import Testing
import NablaKeras

/// `Model.checkInputShapes`: the sizes that free input dimensions take, propagated through the layers' shape rules
/// before a model runs, so that a size a layer cannot take throws instead of trapping inside an op.
@Suite struct InputShapeCheckTests {
    @Test func aConvolutionRefusesAnImageSmallerThanItsKernel() throws {
        let x = Input(shape: [-1, -1, 1], name: "img")
        let y = Dense(2, name: "out")(GlobalAveragePooling2D()(Conv2D(2, kernelSize: 3, name: "conv")(x)))
        let m = Model(inputs: x, outputs: y)
        let e = #expect(throws: ShapeError.self) { try m.checkInputShapes([[1, 2, 2, 1]]) }
        #expect(e?.op == "layer conv", "\(String(describing: e))")
        #expect(try m.checkInputShapes([[5, 3, 4, 1]]).map(\.shape) == [[-1, 2]])
        // Fixed sizes are still checked: the channel count, the rank.
        #expect(throws: ShapeError.self) { try m.checkInputShapes([[1, 5, 5, 3]]) }
        #expect(throws: ShapeError.self) { try m.checkInputShapes([[1, 5, 5]]) }
    }

    @Test func primitiveOpsOnSymbolicTensorsTakeTheirShapeRules() throws {
        let a = Input(shape: [-1, 2], name: "pa"), b = Input(shape: [-1, 2], name: "pb")
        let m = Model(inputs: [a, b], outputs: Dense(1)((a + b).relu()))
        let e = #expect(throws: ShapeError.self) { try m.checkInputShapes([[1, 2, 2], [1, 3, 2]]) }
        #expect(e?.op == "add", "\(String(describing: e))")
        #expect(try m.checkInputShapes([[4, 3, 2], [4, 1, 2]]).map(\.shape) == [[-1, 3, 1]])
    }

    @Test func mergedBranchesOfDifferentLengthsAndBadReshapesThrow() throws {
        let a = Input(shape: [-1, 2], name: "a"), b = Input(shape: [-1, 2], name: "b")
        let m = Model(inputs: [a, b], outputs: Dense(1)(Add(name: "sum")([a, b])))
        let e = #expect(throws: ShapeError.self) { try m.checkInputShapes([[1, 2, 2], [1, 3, 2]]) }
        #expect(e?.op == "layer sum", "\(String(describing: e))")
        #expect(try m.checkInputShapes([[4, 3, 2], [4, 3, 2]]).map(\.shape) == [[-1, 3, 1]])

        let s = Input(shape: [-1, 3], name: "seq")
        let r = Model(inputs: s, outputs: Reshape([-1, 4], name: "re")(s))
        #expect(throws: ShapeError.self) { try r.checkInputShapes([[1, 3, 3]]) }
        #expect(try r.checkInputShapes([[1, 4, 3]]).map(\.shape) == [[-1, 3, 4]])
    }

    @Test func aModelUsedAsALayerIsCheckedThrough() throws {
        let inner = Input(shape: [-1, -1, 1])
        let body = Model(inputs: inner, outputs: Conv2D(1, kernelSize: 4, name: "deep_conv")(inner), name: "body")
        let x = Input(shape: [-1, -1, 1])
        let outer = Model(inputs: x, outputs: GlobalAveragePooling2D()(body(x)))
        let e = #expect(throws: ShapeError.self) { try outer.checkInputShapes([[1, 3, 8, 1]]) }
        #expect(e?.op == "layer deep_conv", "\(String(describing: e))")
        #expect(throws: Never.self) { try outer.checkInputShapes([[1, 4, 4, 1]]) }
    }
}
