// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Nabla",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Nabla", targets: ["Nabla"]),
        .library(name: "NablaNN", targets: ["NablaNN"]),
        .library(name: "NablaOptim", targets: ["NablaOptim"]),
        .library(name: "NablaData", targets: ["NablaData"]),
        .library(name: "NablaKeras", targets: ["NablaKeras"]),
        .library(name: "NablaBoard", targets: ["NablaBoard"]),
        .library(name: "NablaEstimator", targets: ["NablaEstimator"]),
        .library(name: "NablaCLI", targets: ["NablaCLI"]),
        .library(name: "NablaDistributed", targets: ["NablaDistributed"]),
        .library(name: "NablaONNX", targets: ["NablaONNX"]),
        .library(name: "NablaServe", targets: ["NablaServe"]),
        .library(name: "NablaServeCore", targets: ["NablaServeCore"]),
        .executable(name: "nabla-bench", targets: ["nabla-bench"]),
        .executable(name: "nabla", targets: ["NablaCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` (DocC) only; no target depends on it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // NablaServe only (`nabla serve`). Hummingbird's default traits pull swift-configuration, which it does not need.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // OpenBLAS, loaded with dlopen at the first matrix product (Sources/CNablaBLAS/blas_loader.c).
        .target(name: "CNablaBLAS", linkerSettings: [.linkedLibrary("dl")]),
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
        .target(name: "NablaOptim", dependencies: ["NablaNN"]),
        .target(name: "NablaData", dependencies: ["Nabla"]),
        .target(name: "NablaEstimator", dependencies: ["NablaNN", "NablaOptim", "NablaBoard"]),
        .target(name: "NablaKeras", dependencies: ["Nabla", "NablaNN", "NablaOptim", "NablaData", "NablaBoard", "NablaDistributed"]),
        .target(
            name: "NablaBoard",
            dependencies: ["Nabla", "CZlib", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto"]
        ),
        // ONNX import and export (export takes NablaNN modules and Keras models); onnx.proto (with its LICENSE) is in Proto/, the generated Swift in Generated/ (Scripts/generate-protos.sh).
        .target(
            name: "NablaONNX",
            dependencies: ["Nabla", "NablaNN", "NablaKeras", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto"]
        ),
        .testTarget(name: "NablaONNXTests", dependencies: ["NablaONNX", "NablaNN", "NablaKeras", "NablaTestSupport"]),
        .executableTarget(name: "fashion-mlp", dependencies: ["NablaNN", "NablaOptim", "NablaData"], path: "Examples/FashionMLP"),
        .executableTarget(name: "fashion-cnn", dependencies: ["NablaNN", "NablaOptim", "NablaData"], path: "Examples/FashionCNN"),
        .executableTarget(name: "finetune", dependencies: ["NablaNN", "NablaOptim", "NablaData"], path: "Examples/Finetune"),
        .executableTarget(name: "keras-fashion", dependencies: ["NablaKeras", "NablaData", "NablaDistributed"], path: "Examples/KerasFashion"),
        .executableTarget(name: "linear-regression", dependencies: ["NablaOptim"], path: "Examples/LinearRegression"),
        .target(name: "NablaTestSupport", dependencies: ["Nabla"], path: "Tests/NablaTestSupport"),
        .testTarget(name: "NablaTests", dependencies: ["Nabla", "NablaTestSupport"]),
        .testTarget(name: "NablaNNTests", dependencies: ["NablaNN", "NablaTestSupport"]),
        .testTarget(name: "NablaOptimTests", dependencies: ["NablaOptim", "NablaData", "NablaTestSupport", "nabla-checkpoint-writer"]),
        // The child the kill test stops with SIGKILL while it writes checkpoints.
        .executableTarget(name: "nabla-checkpoint-writer", dependencies: ["NablaOptim"], path: "Tests/CheckpointWriter"),
        .testTarget(name: "NablaDataTests", dependencies: ["NablaData", "NablaTestSupport"]),
        .testTarget(name: "NablaKerasTests", dependencies: ["NablaKeras", "NablaData", "NablaTestSupport"]),
        .testTarget(name: "NablaEstimatorTests", dependencies: ["NablaEstimator", "NablaData", "NablaTestSupport"]),
        .testTarget(name: "NablaBoardTests", dependencies: ["NablaBoard", "Nabla", "NablaTestSupport"]),
        .executableTarget(name: "nabla-bench", dependencies: ["NablaNN", "NablaOptim", "NablaData", "NablaKeras", "NablaONNX"], path: "Benchmarks/nabla-bench"),
        .target(name: "NablaCLI", dependencies: ["NablaNN", "NablaOptim", "NablaData", "NablaBoard", "NablaDistributed", "NablaKeras",
                                                "NablaONNX", "Yams"]),
        .executableTarget(
            name: "NablaCommand",
            dependencies: ["NablaCLI", "NablaServe", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/nabla"
        ),
        // The TF-Serving-compatible model server of `nabla serve`; Hummingbird and the metrics stay in this target.
        // The server's request decoder and response writer, without HTTP: what the fuzz target links.
        .target(name: "NablaServeCore", dependencies: ["Nabla"]),
        .target(
            name: "NablaServe",
            dependencies: [
                "Nabla", "NablaKeras", "NablaONNX", "NablaServeCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(name: "NablaServeTests", dependencies: ["NablaServe", "NablaKeras", "NablaONNX", "NablaTestSupport", "NablaCommand", .product(name: "Logging", package: "swift-log")]),
        // Data-parallel training over Open MPI, which is opened with dlopen (Sources/CNablaMPI/mpi_loader.c).
        .target(name: "CNablaMPI", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "NablaDistributed", dependencies: ["CNablaMPI", "Nabla", "NablaNN", "NablaData"]),
        // The scenarios the NablaDistributed tests run under `mpirun -np 2`.
        .executableTarget(name: "nabla-ddp-check", dependencies: ["NablaDistributed", "NablaOptim", "NablaKeras"], path: "Tests/DDPCheck"),
        .testTarget(name: "NablaDistributedTests", dependencies: ["NablaDistributed", "NablaTestSupport", "nabla-ddp-check", "NablaCommand"]),
        .testTarget(name: "NablaCLITests", dependencies: ["NablaCLI", "NablaKeras", "NablaONNX", "NablaTestSupport"]),
        // The seed articles' examples as a PyTorch or Keras user ports them, checked against PyTorch's numbers.
        .testTarget(name: "PortedExamples", dependencies: ["NablaNN", "NablaOptim", "NablaData", "NablaKeras", "NablaTestSupport"],
                    path: "Tests/PortedExamples"),
    ]
)
