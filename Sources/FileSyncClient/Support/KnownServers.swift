import FileSyncCore
import FileSyncSystem
import Foundation
import Synchronization

/// The servers' TLS fingerprints pinned on first use, like SSH's known_hosts: one line per server,
/// `HOST:PORT FINGERPRINT`, in `$XDG_CONFIG_HOME/filesync/known_servers`.
public struct KnownServers: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The pinned fingerprint of `server`, if any.
    public func fingerprint(for server: Endpoint) -> String? {
        entries()[server.description]
    }

    /// Pins `fingerprint` for `server`, replacing any earlier pin.
    public func pin(_ fingerprint: String, for server: Endpoint) throws {
        var all = entries()
        all[server.description] = fingerprint
        let text = all.keys.sorted().map { "\($0) \(all[$0]!)\n" }.joined()
        try ConfigFile.write(Array(text.utf8), to: path, mode: 0o644)
    }

    private func entries() -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2 { result[String(fields[0])] = String(fields[1]) }
        }
        return result
    }
}

/// What the TLS verification callback saw and decided, shared with the session.
final class FingerprintCheck: Sendable {
    struct State {
        var observed: String?
        var refusal: String?
        /// The server sent a valid message: TLS and identity are settled, later errors are losses.
        var serverSpoke = false
    }
    let state = Mutex(State())
    /// The fingerprint the server announced in its OFFER, when found by discovery.
    let announced: String?
    /// The fingerprint pinned for this server on first use.
    let pinned: String?
    let acceptNew: Bool
    let server: Endpoint
    let knownServersPath: String

    init(server: Endpoint, announced: String?, pinned: String?, acceptNew: Bool, knownServersPath: String) {
        self.server = server
        self.announced = announced
        self.pinned = pinned
        self.acceptNew = acceptNew
        self.knownServersPath = knownServersPath
    }

    /// Decides on the certificate the server presented: it must match the OFFER (if any) and the
    /// pin (unless a new one is accepted on purpose). Returns whether to go on.
    func verify(certificateDER: [UInt8]) -> Bool {
        let fingerprint = SHA256Hex.of(certificateDER)
        var refusal: String?
        if let announced, announced != fingerprint {
            refusal =
                "the server at \(server) presented TLS fingerprint \(fingerprint), but the server that answered "
                + "discovery announced \(announced): refusing to connect"
        } else if let pinned, pinned != fingerprint, !acceptNew {
            refusal =
                "the TLS fingerprint of the server at \(server) changed: it is now \(fingerprint), but \(pinned) was "
                + "pinned on first use (\(knownServersPath)). If the server's key was replaced on purpose, run again "
                + "with --accept-new-fingerprint; otherwise someone may be impersonating it"
        }
        state.withLock {
            $0.observed = fingerprint
            $0.refusal = refusal
        }
        return refusal == nil
    }
}
