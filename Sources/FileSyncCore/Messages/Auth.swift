/// Client → server, after `CHALLENGE`: the client's proofs, and its own key sealed for binding.
public struct Auth: Codable, Sendable, Equatable {
    /// HMAC-SHA256(secret, "filesync-client-v1", clientNonce, serverNonce, clientId), hex.
    public var proof: String
    /// HMAC-SHA256(clientKey, "filesync-key-v1", clientNonce, serverNonce, clientId), hex.
    public var keyProof: String
    /// The 32-byte client key XOR HMAC-SHA256(secret, "filesync-enroll-v1", ...), hex; used only
    /// the first time the server sees this client id.
    public var sealedKey: String

    public init(proof: String, keyProof: String, sealedKey: String) {
        self.proof = proof
        self.keyProof = keyProof
        self.sealedKey = sealedKey
    }
}
