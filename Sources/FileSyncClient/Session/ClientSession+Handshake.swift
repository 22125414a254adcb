import FileSyncCore
import FileSyncSystem
import Foundation
import Logging
import NIOCore

extension ClientSession {
    /// The features this client offers in `HELLO` for a backup: compression as configured, and
    /// every other feature of the backup's send side (not ``SessionFeatures/history``, which is
    /// for snapshot and restore sessions).
    var offeredFeatures: SessionFeatures {
        var features = SessionFeatures(Self.helloOrder)
        if options.compressionLevel == 0 {
            features.subtract([.deflate, .zstd])
        } else if options.zstdLevel <= 0 {
            features.remove(.zstd)
        }
        if !options.xattrs { features.remove(.xattrs) }
        return features
    }

    /// The features of a backup, in the order in which `HELLO` has always listed them (zstd before
    /// deflate): kept so that what goes on the wire does not change.
    static let helloOrder: [SessionFeatures] = [
        .zstd, .deflate, .resume, .chunks, .chunkerV1, .binaryManifest, .fileFrames, .binaryTasks, .tasksPerPart,
        .metadata, .xattrs, .specials, .hardlinks,
    ]

    /// The capability names of `features`, in ``helloOrder``.
    static func helloCapabilities(_ features: SessionFeatures) -> [String] {
        helloOrder.filter { features.contains($0) }.map(\.capabilities).flatMap { $0 }
    }

    /// The capability names `HELLO` announces: a backup's, plus `"history"` for the other kinds
    /// of session (Protocol.md §11.1), and `"chunkDigest"` and `"unreadableFolders"` for a restore (§11.3).
    var helloCapabilities: [String] {
        let backup = Self.helloCapabilities(offeredFeatures)
        if kind == .backup && options.dryRun { return backup + SessionFeatures.dryRun.capabilities + keeping }
        if kind == .restore {
            return backup + SessionFeatures([.history, .chunkDigest, .unreadableFolders]).capabilities
        }
        return kind == .backup ? backup + keeping : backup + SessionFeatures.history.capabilities
    }

    /// `"keepExcluded"` (and `"excludeRules"` with rules to send) when a backup asks to keep the
    /// excluded paths (``BackupOptions/keepingExcluded``).
    private var keeping: [String] {
        guard kind == .backup && options.keepingExcluded != nil else { return [] }
        return SessionFeatures(options.excludeRules == nil ? [.keepExcluded] : [.keepExcluded, .excludeRules])
            .capabilities
    }

    /// `HELLO`, the mutual proof of the secret (Protocol.md §4.1), and the wait in the queue:
    /// returns `READY` and the features in force, negotiated once with
    /// ``SessionFeatures/negotiate(client:server:)``.
    func handshake(
        _ events: inout some ServerMessages, link: Link, check: FingerprintCheck, knownServers: KnownServers
    ) async throws -> (Ready, SessionFeatures) {
        let clientNonce = Authenticator.nonce()
        let offered = helloCapabilities
        // A backup's HELLO has no `session`, as before history: its bytes are unchanged.
        try await link.write(
            .hello(
                Hello(
                    clientId: options.clientID.string, capabilities: offered,
                    // Only rules, nothing excluded in this run: a server without keepExcluded may
                    // mirror every deletion, as it did before (Protocol.md §6.5).
                    mirrorDeletions: options.mirrorDeletions && (options.keepingExcluded?.isEmpty ?? true),
                    software: "filesync-client/\(FileSyncVersion.string)", clientNonce: clientNonce,
                    session: kind == .backup ? nil : kind, dryRun: kind == .backup && options.dryRun ? true : nil,
                    mirrorDeletionsKeepingExcluded: keeping.isEmpty ? nil : true)))
        let challenge = try await challenge(&events)
        check.state.withLock { $0.serverSpoke = true }
        try await authenticate(
            challenge, clientNonce: clientNonce, link: link, check: check, knownServers: knownServers)
        let ready = try await awaitReady(&events, channel: link.channel)
        let features = SessionFeatures.negotiate(client: offered, server: ready.capabilities)
        // A dry run leaves nothing behind, on the server (which binds no key) or here; but a server
        // without dryRun took it for a backup and bound a new id to this key: it must be kept.
        if !options.dryRun || !features.contains(.dryRun) { try saveNewClientKey() }
        stats.ready()
        stats.negotiated(resume: features.contains(.resume))
        logger.info(
            "session ready",
            metadata: [
                "server": "\(ready.serverName)", "protocol": "\(ready.version)", "features": "\(features)",
            ])
        return (ready, features)
    }

    /// Writes a new client key to its file once the server has accepted it (a run that failed
    /// before leaves no key file behind).
    private func saveNewClientKey() throws {
        guard let path = options.clientKeyFileToCreate, !FileManager.default.fileExists(atPath: path) else { return }
        try KeyFile.write(options.clientKey, to: path)
        logger.notice("saved this client's new key", metadata: ["file": "\(path)"])
    }

    /// The server's `CHALLENGE`; without TLS, a server that closes instead probably requires it.
    private func challenge(_ events: inout some ServerMessages) async throws -> Challenge {
        let first: Message
        do {
            first = try await events.nextMessage()
        } catch let error as FileSyncError
            where !options.useTLS
            && [.connectionClosed, .malformedFrame, .frameTooLarge, .malformedMessage].contains(error.code)
        {
            throw BackupFailure.serverIdentity(
                "the server at \(endpoint) closed the connection without answering HELLO: it probably requires TLS "
                    + "(run without --no-tls)")
        }
        guard case .challenge(let challenge) = first else {
            throw FileSyncError(.unexpectedMessage, "expected CHALLENGE after HELLO")
        }
        return challenge
    }

    /// Checks the server's proof, pins its certificate on first use, and answers with `AUTH`.
    private func authenticate(
        _ challenge: Challenge, clientNonce: String, link: Link, check: FingerprintCheck, knownServers: KnownServers
    ) async throws {
        let id = options.clientID.string
        let serverNonce = challenge.serverNonce
        let authenticator = options.authenticator
        let expected = authenticator.serverProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
        guard serverNonce.utf8.count == 64, Authenticator.matches(challenge.serverProof, expected) else {
            throw BackupFailure.authentication(
                "the server at \(endpoint) could not prove it knows the secret: the secret file is wrong, "
                    + "or this is not the server it claims to be; nothing was sent")
        }
        // The server proved it knows the secret: now its certificate may be pinned (trust on first use).
        if let observed = check.state.withLock({ $0.observed }), knownServers.fingerprint(for: endpoint) != observed {
            try knownServers.pin(observed, for: endpoint)
            logger.notice(
                "pinned the server's TLS fingerprint",
                metadata: ["fingerprint": "\(observed)", "server": "\(endpoint)", "file": "\(knownServers.path)"])
        }
        try await link.write(
            .auth(
                Auth(
                    proof: authenticator.clientProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id),
                    keyProof: Authenticator.keyProof(
                        clientKey: options.clientKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id),
                    sealedKey: authenticator.sealedClientKey(
                        options.clientKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id))))
    }

    /// `READY`, after as many `QUEUED` as the queue takes; while queued, the idle timeout follows
    /// the server's keepalive.
    private func awaitReady(_ events: inout some ServerMessages, channel: any Channel) async throws -> Ready {
        let clock = ContinuousClock()
        var queuedSince: ContinuousClock.Instant?
        defer { if let queuedSince { stats.queued(for: (clock.now - queuedSince).inSeconds) } }
        while true {
            switch try await events.nextMessage() {
            case .ready(let ready):
                await Self.setIdleTimeout(options.idleTimeout, on: channel)
                return ready
            case .queued(let queued):
                if queuedSince == nil { queuedSince = clock.now }
                logger.notice(
                    "another client is backing up; waiting in line", metadata: ["position": "\(queued.position)"])
                let limit = TimeAmount.seconds(Int64(max(queued.keepaliveSeconds, 1) * 3 + 5))
                await Self.setIdleTimeout(limit, on: channel)
            case let other:
                throw FileSyncError(.unexpectedMessage, "expected READY or QUEUED, got \(other.kind.rawValue)")
            }
        }
    }

    /// Changes the idle timeout. A channel the server closed already (a snapshots session's server
    /// sends READY, the list and closes at once) has no timer to change: its buffered frames are
    /// still read, then its end.
    private static func setIdleTimeout(_ timeout: TimeAmount, on channel: any Channel) async {
        try? await channel.triggerUserOutboundEvent(IdleTimeoutHandler.SetTimeout(timeout)).get()
    }
}
