import EventStore
import Foundation

/// Baton's database schema: the numbered SQL files of `schema/`, compiled into the binary by
/// the EmbedSchema build plugin so a deployed batond needs no source tree.
public enum BatonSchema {
    /// Every migration, in the order they apply.
    public static let migrations: [Migration] = embeddedMigrationFiles.map { file in
        guard let data = Data(base64Encoded: file.base64), let sql = String(data: data, encoding: .utf8) else {
            preconditionFailure("embedded migration \(file.name) is not valid UTF-8")
        }
        return Migration(name: file.name, sql: sql)
    }
}
