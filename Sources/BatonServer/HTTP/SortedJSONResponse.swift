import Foundation
import Hummingbird
import NIOCore

extension Response {
    /// `value` as a JSON answer with its keys sorted: the same bytes for the same value from
    /// every batond process (the default encoder's key order follows the process's hashing).
    /// For answers built outside the generated API, which sorts its keys itself.
    static func sortedJSON(
        _ value: some Encodable, status: HTTPResponse.Status, contentType: String = "application/json; charset=utf-8"
    ) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: status, headers: [.contentType: contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
