import Foundation

/// The OpenAPI document the API's types, server and client are generated from, as batond
/// serves it at `/openapi.yaml`.
public enum OpenAPIDocument {
    public static let yaml: String = {
        guard let file = embeddedOpenAPIDocument.first, let data = Data(base64Encoded: file.base64),
              let text = String(data: data, encoding: .utf8)
        else { preconditionFailure("the embedded OpenAPI document is missing or not UTF-8") }
        return text
    }()
}
