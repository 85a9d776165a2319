import Foundation

// Usage: schema-embedder OUTPUT.swift FILE.sql...
// Writes a Swift file declaring `embeddedMigrations`, one entry per SQL file, in the order
// given. The SQL text is emitted as a base64 literal so no file content can break the
// generated Swift syntax.
let arguments = CommandLine.arguments.dropFirst()
guard let outputPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: schema-embedder OUTPUT.swift FILE.sql...\n".utf8))
    exit(2)
}
var source = """
    // Generated from schema/*.sql by the EmbedSchema build plugin. Do not edit.
    import Foundation

    let embeddedMigrationFiles: [(name: String, base64SQL: String)] = [

    """
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let data = try Data(contentsOf: url)
    source += "    (\"\(url.lastPathComponent)\", \"\(data.base64EncodedString())\"),\n"
}
source += "]\n"
try Data(source.utf8).write(to: URL(fileURLWithPath: outputPath), options: .atomic)
