import Crypto
import Foundation

/// The challenge-response of the session handshake (Protocol.md, "Authentication").
///
/// Both peers hold the server's shared secret; each client also holds a key of its own, bound to
/// its id on the server the first time it is used. Every proof is an HMAC-SHA256 over a label,
/// both nonces and the client id, so the secret never crosses the wire and a recorded session
/// cannot be replayed (the other side's nonce is fresh each time).
public struct Authenticator: Sendable {
    private let secretBytes: [UInt8]
    private var secret: SymmetricKey { SymmetricKey(data: secretBytes) }

    /// - Parameter secret: the server's 32-byte shared secret.
    public init(secret: [UInt8]) {
        self.secretBytes = secret
    }

    /// 32 random bytes as 64 lowercase hex digits.
    public static func nonce() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }.hexString
    }

    /// The server's proof that it knows the secret (checked by the client).
    public func serverProof(clientNonce: String, serverNonce: String, clientID: String) -> String {
        Self.mac(secret, "filesync-server-v1", clientNonce, serverNonce, clientID)
    }

    /// The client's proof that it knows the secret (checked by the server).
    public func clientProof(clientNonce: String, serverNonce: String, clientID: String) -> String {
        Self.mac(secret, "filesync-client-v1", clientNonce, serverNonce, clientID)
    }

    /// The client's proof that it holds its own key.
    public static func keyProof(clientKey: [UInt8], clientNonce: String, serverNonce: String, clientID: String)
        -> String
    {
        mac(SymmetricKey(data: clientKey), "filesync-key-v1", clientNonce, serverNonce, clientID)
    }

    /// The client key, encrypted for the server with a one-time pad derived from the secret and
    /// both nonces, so that a server seeing this id for the first time can bind it.
    public func sealedClientKey(_ clientKey: [UInt8], clientNonce: String, serverNonce: String, clientID: String)
        -> String
    {
        let pad = Self.macBytes(secret, "filesync-enroll-v1", clientNonce, serverNonce, clientID)
        return zip(clientKey, pad).map { $0 ^ $1 }.hexString
    }

    /// Reverses ``sealedClientKey(_:clientNonce:serverNonce:clientID:)``.
    public func openClientKey(_ sealed: String, clientNonce: String, serverNonce: String, clientID: String)
        -> [UInt8]?
    {
        guard let bytes = [UInt8](hex: sealed), bytes.count == 32 else { return nil }
        let pad = Self.macBytes(secret, "filesync-enroll-v1", clientNonce, serverNonce, clientID)
        return zip(bytes, pad).map { $0 ^ $1 }
    }

    /// Compares two hex proofs in constant time.
    public static func matches(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    // MARK: - Private

    /// HMAC-SHA256 over the label and the parts, each fed as a 4-byte big-endian length and its UTF-8
    /// bytes, so that no two different tuples hash alike.
    private static func macBytes(_ key: SymmetricKey, _ label: String, _ parts: String...) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        for part in [label] + parts {
            withUnsafeBytes(of: UInt32(part.utf8.count).bigEndian) { hmac.update(data: $0) }
            hmac.update(data: Array(part.utf8))
        }
        return Array(hmac.finalize())
    }

    private static func mac(
        _ key: SymmetricKey, _ label: String, _ clientNonce: String, _ serverNonce: String, _ id: String
    )
        -> String
    {
        macBytes(key, label, clientNonce, serverNonce, id).hexString
    }
}
