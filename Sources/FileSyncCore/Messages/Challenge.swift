/// Server → client, after `HELLO`: the server's nonce and its proof that it knows the secret.
public struct Challenge: Codable, Sendable, Equatable {
    /// 64 hex digits, fresh for this session.
    public var serverNonce: String
    /// HMAC-SHA256(secret, "filesync-server-v1", clientNonce, serverNonce, clientId), hex.
    public var serverProof: String

    public init(serverNonce: String, serverProof: String) {
        self.serverNonce = serverNonce
        self.serverProof = serverProof
    }
}
