import Foundation
import PackagePlugin

/// Compiles the target's `openapi.yaml` into Swift source, so batond serves the very document
/// its server code was generated from, with no file to ship beside the binary.
@main
struct EmbedOpenAPIDocument: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let document = target.sourceModule!.directoryURL.appending(path: "openapi.yaml")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedOpenAPIDocument.swift")
        return [
            .buildCommand(
                displayName: "Embedding openapi.yaml",
                executable: try context.tool(named: "schema-embedder").url,
                arguments: ["--variable", "embeddedOpenAPIDocument", output.path(), document.path()],
                inputFiles: [document],
                outputFiles: [output]
            )
        ]
    }
}
