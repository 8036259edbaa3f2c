// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Nabla",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Nabla", targets: ["Nabla"]),
        .library(name: "NablaNN", targets: ["NablaNN"]),
        .library(name: "NablaOptim", targets: ["NablaOptim"]),
        .library(name: "NablaData", targets: ["NablaData"]),
        .executable(name: "nabla-bench", targets: ["nabla-bench"]),
        .executable(name: "nabla-demo", targets: ["nabla-demo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CNablaBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "CNablaKernels"),
        .target(
            name: "Nabla",
            dependencies: [
                "CNablaBLAS", "CNablaKernels", "CZlib",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "NablaNN", dependencies: ["Nabla"]),
        .target(name: "NablaOptim", dependencies: ["NablaNN", "CNablaKernels"]),
        .target(name: "NablaData", dependencies: ["Nabla", "CZlib"]),
        .executableTarget(name: "fashion-mlp", dependencies: ["NablaNN", "NablaOptim", "NablaData"], path: "Examples/FashionMLP"),
        .target(name: "NablaTestSupport", dependencies: ["Nabla"], path: "Tests/NablaTestSupport"),
        .testTarget(name: "NablaTests", dependencies: ["Nabla", "NablaTestSupport"]),
        .testTarget(name: "NablaNNTests", dependencies: ["NablaNN", "NablaTestSupport"]),
        .testTarget(name: "NablaOptimTests", dependencies: ["NablaOptim", "NablaData", "NablaTestSupport"]),
        .testTarget(name: "NablaDataTests", dependencies: ["NablaData", "NablaTestSupport"]),
        .executableTarget(name: "nabla-bench", dependencies: ["NablaNN", "NablaOptim", "NablaData"], path: "Benchmarks/nabla-bench"),
        .executableTarget(name: "nabla-demo", dependencies: ["Nabla"], path: "Examples/Demo"),
    ]
)
