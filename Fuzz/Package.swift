// swift-tools-version: 6.0
// The fuzz targets of Nabla's readers, in their own package so that the sanitizer build (`make fuzz`) never
// touches the main build. Build: swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name (the checkout may be called anything).
let main = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "NablaFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "nabla-fuzz",
            dependencies: ["Nabla", "NablaData", "NablaKeras", "NablaOptim", "NablaCLI", "NablaONNX"].map {
                .product(name: $0, package: main.lastPathComponent)
            }
        ),
        // The request-body decoder of `nabla serve`, alone (no HTTP stack): Scripts/fuzz.sh runs it as target `serve`.
        .executableTarget(
            name: "nabla-fuzz-serve",
            dependencies: ["Nabla", "NablaServeCore"].map { .product(name: $0, package: main.lastPathComponent) },
            path: "ServeFuzz"
        ),
    ]
)
