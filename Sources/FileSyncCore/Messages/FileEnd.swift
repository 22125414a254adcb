/// Client → server: the file is complete; `sha256` is the lowercase hex digest of its content,
/// or for chunked and delta transfers the ``ChunkListDigest`` of its chunks.
public struct FileEnd: Codable, Sendable, Equatable {
    public var sha256: String
    public init(sha256: String) { self.sha256 = sha256 }
}
