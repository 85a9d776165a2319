// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "baton",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "batond", targets: ["batond"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "EventStore",
            dependencies: [
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "BatonDomain"),
        .target(
            name: "BatonAgreementFiles",
            dependencies: ["BatonDomain", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "BatonImport",
            dependencies: ["BatonDomain", .product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(name: "baton-domain-bench", dependencies: ["BatonDomain"]),
        .target(name: "BatonTerminal"),
        .target(
            name: "BatonAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            // The generated sources declare `public import` in every file, including files that
            // happen not to use an import publicly; the compiler's warnings about that are the
            // generator's, not ours, and this module holds nothing else of note.
            swiftSettings: [.unsafeFlags(["-suppress-warnings"])],
            plugins: [
                .plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator"),
                "EmbedOpenAPIDocument",
            ]
        ),
        .executableTarget(name: "schema-embedder"),
        .plugin(
            name: "EmbedSchema",
            capability: .buildTool(),
            dependencies: ["schema-embedder"]
        ),
        .plugin(
            name: "EmbedOpenAPIDocument",
            capability: .buildTool(),
            dependencies: ["schema-embedder"]
        ),
        .target(
            name: "BatonSchema",
            dependencies: ["EventStore"],
            plugins: ["EmbedSchema"]
        ),
        .target(
            name: "BatonProjections",
            dependencies: [
                "Postgres",
                "EventStore",
                "BatonDomain",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "BatonServer",
            dependencies: [
                "Postgres",
                "EventStore",
                "BatonProjections",
                "BatonSchema",
                "BatonDomain",
                "BatonAgreementFiles",
                "BatonImport",
                "BatonAPI",
                .product(name: "Yams", package: "Yams"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "batond",
            dependencies: [
                "BatonServer",
                "BatonProjections",
                "BatonDomain",
                "BatonAgreementFiles",
                "BatonImport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "baton",
            dependencies: [
                "BatonAPI",
                "BatonTerminal",
                "BatonDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "baton-api-bench",
            dependencies: [
                "BatonServer", "BatonProjections", "BatonAgreementFiles", "BatonDomain", "EventStore", "Postgres",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "baton-bench",
            dependencies: ["Postgres", "EventStore", "BatonSchema"]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "EventStore", "BatonSchema"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "BatonDomainTests",
            dependencies: [
                "BatonDomain", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "BatonAgreementFilesTests", dependencies: ["BatonAgreementFiles", "BatonDomain"]),
        .testTarget(name: "BatonImportTests", dependencies: ["BatonImport", "BatonDomain"]),
        .testTarget(name: "BatonTerminalTests", dependencies: ["BatonTerminal"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore", "TestSupport"]),
        .testTarget(
            name: "BatonProjectionsTests",
            dependencies: [
                "BatonProjections", "BatonServer", "TestSupport", "BatonAgreementFiles", "BatonDomain", "BatonImport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "BatonServerTests",
            dependencies: [
                "BatonServer", "BatonProjections", "BatonSchema", "TestSupport", "BatonAgreementFiles", "BatonDomain",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "BatondTests", dependencies: ["batond", "baton", "Postgres", "TestSupport", "BatonServer", "BatonDomain"]),
    ],
    swiftLanguageModes: [.v6]
)
