import Nabla
import Testing

@Suite struct NamedRegistryTests {
    @Test func registersLooksUpAndListsNames() {
        let r = NamedRegistry<@Sendable (Int) -> Int>(["double": { $0 * 2 }])
        r.register("square") { $0 * $0 }
        #expect(r["square"]?(3) == 9 && r["double"]?(3) == 6)
        #expect(r["cube"] == nil && !r.contains("cube") && r.contains("double"))
        #expect(r.names == ["double", "square"])
        r.register("double") { $0 + $0 + 1 }
        #expect(r["double"]?(3) == 7)
    }
}
