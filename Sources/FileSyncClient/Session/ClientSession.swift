import FileSyncCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection to a server: handshake, queue, manifest, tasks, files, `NEXT_SYNC`.
struct ClientSession {
    let endpoint: Endpoint
    /// The TLS fingerprint the server announced in discovery, if it was found that way.
    let announcedFingerprint: String?
    let options: BackupOptions
    let scan: SourceScanner.Result
    let counter: ByteCounter
    let stats: TransferStats
    let logger: Logger

    /// What one session achieved.
    struct Outcome {
        /// The manifest entries of the files stored.
        var stored = EntrySet()
        var failed: [String: String] = [:]
        var unchanged = 0
        var bytesSent: Int64 = 0
        var next: NextSync?
        var serverName: String?
    }

    /// Results from `FILE_ACK`s (by path) and ack frames (by entry), filled by the reading task
    /// while the files go out.
    final class Acknowledgements: Sendable {
        let results = Mutex<[FileResult]>([])
        let acks = Mutex<[BinaryAcks.Ack]>([])
        func record(_ files: [FileResult]) { results.withLock { $0.append(contentsOf: files) } }
        func record(_ ack: BinaryAcks.Ack) { acks.withLock { $0.append(ack) } }
    }

    func run() async throws -> Outcome {
        let knownServers = KnownServers(path: options.knownServersPath)
        let check = FingerprintCheck(
            server: endpoint, announced: announcedFingerprint, pinned: knownServers.fingerprint(for: endpoint),
            acceptNew: options.acceptNewFingerprint, knownServersPath: options.knownServersPath)
        do {
            return try await converse(check: check, knownServers: knownServers)
        } catch {
            if let refusal = check.state.withLock({ $0.refusal }) { throw BackupFailure.serverIdentity(refusal) }
            if let tlsError = error as? NIOSSLError {
                guard check.state.withLock({ $0.serverSpoke }) else {
                    throw BackupFailure.serverIdentity(
                        "TLS with the server at \(endpoint) failed (\(tlsError)): it may be running without TLS (--no-tls)"
                    )
                }
                throw FileSyncError(.connectionClosed, "the TLS connection was lost: \(tlsError)")
            }
            throw error
        }
    }

    /// TLS 1.3; the certificate chain and name are not checked by a CA but by the pinned fingerprint.
    static var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .noHostnameVerification
        // No certificate authority is consulted, so the system's bundle need not be read and parsed
        // (about 140 certificates, some milliseconds at every start).
        configuration.trustRoots = .certificates([])
        return configuration
    }

    private func converse(check: FingerprintCheck, knownServers: KnownServers) async throws -> Outcome {
        let counter = self.counter
        let idle = options.idleTimeout
        let logger = self.logger
        let tls = try options.useTLS ? NIOSSLContext(configuration: Self.tlsConfiguration) : nil
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(
                .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 1 << 20)
            )
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // The server's certificate is self-signed: it is checked by its pinned fingerprint.
                        let handler = try NIOSSLClientHandler(context: tls, serverHostname: nil) {
                            certificates, promise in
                            let der = (try? certificates.first?.toDERBytes()) ?? []
                            promise.succeed(check.verify(certificateDER: der) ? .certificateVerified : .failed)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    let timeout = IdleTimeoutHandler(timeout: idle, countsWrites: true) { amount in
                        logger.warning(
                            "no progress for \(amount.nanoseconds / 1_000_000_000) s; closing the connection")
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteCounter.Handler(counter: counter))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                    try channel.pipeline.syncOperations.addHandler(timeout)
                    return try NIOAsyncChannel<Frame, Frame>(wrappingChannelSynchronously: channel)
                }
            }
        let channel = connection.channel
        return try await connection.executeThenClose { inbound, outbound in
            let (events, continuation) = AsyncThrowingStream.makeStream(of: ServerEvent.self)
            let acks = Acknowledgements()
            return try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    do {
                        let decoder = MessageDecoder()
                        for try await frame in inbound {
                            switch frame.kind {
                            case .tasks:
                                continuation.yield(.tasks(try BinaryTasks.decode(frame.payload)))
                                continue
                            case .ack:
                                acks.record(try BinaryAcks.decode(frame.payload))
                                continue
                            default: break
                            }
                            let message = try decoder.decode(frame)
                            if case .fileAck(let ack) = message {
                                acks.record(ack.files)
                            } else {
                                continuation.yield(.message(message))
                            }
                        }
                        continuation.finish(
                            throwing: FileSyncError(.connectionClosed, "the server closed the connection"))
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                var events = events.makeAsyncIterator()
                let outcome = try await converse(
                    &events, outbound: outbound, acks: acks, channel: channel, check: check, knownServers: knownServers)
                tasks.cancelAll()
                return outcome
            }
        }
    }

    // MARK: - Conversation

    private func converse(
        _ events: inout ServerEvent.Iterator,
        outbound: NIOAsyncChannelOutboundWriter<Frame>, acks: Acknowledgements, channel: any Channel,
        check: FingerprintCheck, knownServers: KnownServers
    ) async throws -> Outcome {
        let json = FrameEncoderJSON()
        var outcome = Outcome()
        let compression =
            options.compressionLevel == 0
            ? [] : (options.zstdLevel > 0 ? [Capability.zstd] : []) + [Capability.deflate]
        let capabilities =
            compression + [
                Capability.resume, Capability.chunks, Capability.binaryManifest, Capability.fileFrames,
                Capability.binaryTasks, Capability.tasksPerPart,
            ]
        let clientNonce = Authenticator.nonce()
        let id = options.clientID.string
        try await outbound.write(
            json.frame(
                .hello(
                    Hello(
                        clientId: id, capabilities: capabilities, mirrorDeletions: options.mirrorDeletions,
                        software: "filesync-client/\(FileSyncVersion.string)", clientNonce: clientNonce))))

        // Authentication: the server proves it knows the secret before anything else is sent.
        let first: Message
        do {
            first = try await next(&events)
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
        check.state.withLock { $0.serverSpoke = true }
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
            logger.notice("pinned the TLS fingerprint \(observed) of \(endpoint) in \(knownServers.path)")
        }
        try await outbound.write(
            json.frame(
                .auth(
                    Auth(
                        proof: authenticator.clientProof(
                            clientNonce: clientNonce, serverNonce: serverNonce, clientID: id),
                        keyProof: Authenticator.keyProof(
                            clientKey: options.clientKey, clientNonce: clientNonce, serverNonce: serverNonce,
                            clientID: id),
                        sealedKey: authenticator.sealedClientKey(
                            options.clientKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)))))

        // Handshake and queue.
        let ready: Ready
        waiting: while true {
            switch try await next(&events) {
            case .ready(let message):
                ready = message
                break waiting
            case .queued(let queued):
                logger.notice("another client is backing up; waiting in line at position \(queued.position)")
                let limit = TimeAmount.seconds(Int64(max(queued.keepaliveSeconds, 1) * 3 + 5))
                try await channel.triggerUserOutboundEvent(IdleTimeoutHandler.SetTimeout(limit)).get()
            case let other:
                throw FileSyncError(.unexpectedMessage, "expected READY or QUEUED, got \(other.kind.rawValue)")
            }
        }
        try await channel.triggerUserOutboundEvent(IdleTimeoutHandler.SetTimeout(options.idleTimeout)).get()
        outcome.serverName = ready.serverName
        stats.ready()
        logger.info("session ready with \(ready.serverName), protocol \(ready.version)")

        // Manifest.
        let parts = manifestParts(limit: ready.limits)
        let binary = ready.capabilities.contains(Capability.binaryManifest)
        for (index, range) in parts.enumerated() {
            let final = index == parts.count - 1
            let part = scan.entries[range]
            if binary {
                try await outbound.write(Frame(kind: .manifest, payload: BinaryManifest.encode(part, final: final)))
            } else {
                try await outbound.write(json.frame(.filesInfo(FilesInfo(entries: Array(part), final: final))))
            }
        }

        // Tasks: task frames come part by part, and files are sent as their part arrives.
        let binaryTasks = ready.capabilities.contains(Capability.binaryTasks)
        var tasks = TaskList()
        try await receiveTasks(&events, binary: binaryTasks, into: &tasks, outcome: &outcome)

        // Files.
        let compressor: BlockCompressor? =
            if options.compressionLevel == 0 {
                nil
            } else if ready.capabilities.contains(Capability.zstd) && options.zstdLevel > 0 {
                .zstd(try ZstdCompressor(level: options.zstdLevel))
            } else if ready.capabilities.contains(Capability.deflate) {
                .zlib(try Deflater(level: options.compressionLevel))
            } else {
                nil
            }
        var sender = FileSender(
            source: options.source, outbound: outbound, eventLoop: channel.eventLoop, compressor: compressor,
            stats: stats,
            bytesPerSecond: options.bytesPerSecond, fileFrames: ready.capabilities.contains(Capability.fileFrames),
            chunkCache: options.chunkCacheDirectory.flatMap { ChunkCache(directory: $0, id: options.clientID) })
        var sent = EntrySet()
        do {
            var position = 0
            while true {
                if position == tasks.runs.count {
                    if tasks.complete { break }
                    // Waiting for the next part: what is buffered goes out first.
                    try await sender.flush()
                    try await receiveTasks(&events, binary: binaryTasks, into: &tasks, outcome: &outcome)
                    continue
                }
                let run = tasks.runs[position]
                if run.kind == .delta && !tasks.complete {
                    // A delta transfer waits for CHUNK_NEED, which the server sends after the last task part.
                    try await sender.flush()
                    while !tasks.complete {
                        try await receiveTasks(&events, binary: binaryTasks, into: &tasks, outcome: &outcome)
                    }
                }
                position += 1
                let known =
                    run.kind == .full || (run.kind == .resume && ready.capabilities.contains(Capability.resume))
                    || ([.chunked, .delta].contains(run.kind) && ready.capabilities.contains(Capability.chunks))
                guard known else {
                    throw FileSyncError(
                        .unexpectedMessage, "the server asked for a \(run.kind.rawValue) task, not offered")
                }
                for index in run.entries {
                    let entry = scan.entries[index]
                    switch try await sender.send(entry, task: run.task(path: entry.path), events: &events) {
                    case .sent: sent.insert(index)
                    case .skipped(let reason): outcome.failed[entry.path] = reason
                    }
                }
            }
            let taskCount = tasks.runs.reduce(0) { $0 + $1.count }
            outcome.unchanged = scan.fileCount - taskCount - tasks.rejected
            logger.info("the server asked for \(taskCount) files; \(outcome.unchanged) were unchanged")
            try await sender.append(.done(Done()))
            try await sender.flush()
        } catch let error where error is ChannelError || error is IOError {
            // A write failed: the server may have ended the session with ERROR (about a later manifest
            // part, say) before it closed. Its reason is the one to report, not the lost connection.
            throw await Self.refusal(pendingIn: &events) ?? error
        }

        // Results.
        guard case .nextSync(let next) = try await next(&events) else {
            throw FileSyncError(.unexpectedMessage, "expected NEXT_SYNC")
        }
        outcome.next = next
        try record(acks, binary: binaryTasks, tasks: tasks.runs, into: &outcome)
        for entry in outcome.stored.entries where sent.contains(entry) {
            outcome.bytesSent += scan.entries.size(at: entry)
        }
        return outcome
    }

    private func next(_ events: inout ServerEvent.Iterator) async throws -> Message {
        switch try await nextEvent(&events) {
        case .message(let message): return message
        case .tasks:
            throw FileSyncError(.unexpectedMessage, "a tasks frame arrived where a control message was expected")
        }
    }

    /// The `ERROR` among the events still to be read, if the server sent one; reads them until the
    /// connection's end.
    private static func refusal(pendingIn events: inout ServerEvent.Iterator) async -> ServerRefusal? {
        while let event = try? await events.next() {
            if case .message(.error(let error)) = event { return ServerRefusal(error: error) }
        }
        return nil
    }

    private func nextEvent(_ events: inout ServerEvent.Iterator) async throws -> ServerEvent {
        guard let event = try await events.next() else {
            throw FileSyncError(.connectionClosed, "the server closed the connection")
        }
        if case .message(.error(let error)) = event { throw ServerRefusal(error: error) }
        return event
    }

    /// Notes the results of `acks` in `outcome`: by entry from ack frames, by path otherwise.
    private func record(
        _ acks: Acknowledgements, binary: Bool, tasks: [BinaryTasks.Run], into outcome: inout Outcome
    ) throws {
        let entries = scan.entries
        func failed(_ entry: Int, _ message: String) {
            let path = entries.path(at: entry)
            if outcome.failed[path] == nil { outcome.failed[path] = message }
        }
        guard binary else {
            guard acks.acks.withLock({ $0.isEmpty }) else {
                throw FileSyncError(.unexpectedMessage, "an ack frame, but binaryTasks was not negotiated")
            }
            let results = acks.results.withLock { $0 }
            guard !results.isEmpty else { return }
            var positions: [String: Int] = [:]
            for run in tasks { for entry in run.entries { positions[entries.path(at: entry)] = entry } }
            for result in results {
                if let error = result.error {
                    if outcome.failed[result.path] == nil { outcome.failed[result.path] = error.message }
                } else if let entry = positions[result.path] {
                    outcome.stored.insert(entry)
                }
            }
            return
        }
        for ack in acks.acks.withLock({ $0 }) {
            for run in ack.stored {
                guard run.upperBound <= entries.count else {
                    throw FileSyncError(.unexpectedMessage, "the server acknowledged entries it never asked for")
                }
                for entry in run { outcome.stored.insert(entry) }
            }
            for failure in ack.failed {
                guard failure.entry < entries.count else {
                    throw FileSyncError(.unexpectedMessage, "the server acknowledged an entry it never asked for")
                }
                failed(failure.entry, failure.error.message)
            }
        }
    }

    /// The task list as it arrives: runs of manifest entries in ascending order.
    struct TaskList {
        var runs: [BinaryTasks.Run] = []
        /// The entry after the last run so far.
        var end = 0
        /// Whether the final part has arrived.
        var complete = false
        /// Files of the manifest the server rejected (with `TASKS` messages: entries).
        var rejected = 0
    }

    /// Receives the next part of the task list (task frames), or all of it (`TASKS` messages, which
    /// name paths and are looked up once all have arrived), checking that each task names a file of
    /// the manifest, none twice; notes rejected entries in `outcome`.
    private func receiveTasks(
        _ events: inout ServerEvent.Iterator, binary: Bool, into tasks: inout TaskList, outcome: inout Outcome
    ) async throws {
        let entries = scan.entries
        // JSON tasks name paths: they are looked up once all have arrived.
        var named: [TransferTask] = []
        receiving: while true {
            switch try await nextEvent(&events) {
            case .tasks(let part) where binary:
                for run in part.runs {
                    guard run.first >= tasks.end, run.first + run.count <= entries.count,
                        run.entries.allSatisfy({ entries.type(at: $0) == .file })
                    else {
                        throw FileSyncError(
                            .unexpectedMessage,
                            "the server asked for manifest entries \(run.first)..<\(run.first + run.count), "
                                + "which are not files offered once each")
                    }
                    tasks.end = run.first + run.count
                    tasks.runs.append(run)
                }
                for rejection in part.rejected {
                    guard rejection.entry < entries.count else {
                        throw FileSyncError(
                            .unexpectedMessage, "the server rejected entry \(rejection.entry), not offered")
                    }
                    outcome.failed[entries[rejection.entry].path] = rejection.message
                }
                tasks.rejected += part.rejected.count { entries.type(at: $0.entry) == .file }
                tasks.complete = part.final
                return
            case .message(.tasks(let part)) where !binary:
                named += part.tasks
                for rejected in part.rejected ?? [] {
                    outcome.failed[rejected.path] = rejected.error?.message ?? "rejected"
                }
                tasks.rejected += part.rejected?.count ?? 0
                if part.final { break receiving }
            default:
                throw FileSyncError(.unexpectedMessage, "expected TASKS")
            }
        }
        let wanted = Set(named.lazy.map(\.path))
        var positions: [String: Int] = [:]
        positions.reserveCapacity(wanted.count)
        if !wanted.isEmpty {
            for index in entries.indices where entries.type(at: index) == .file {
                let path = entries.path(at: index)
                if wanted.contains(path) { positions[path] = index }
            }
        }
        var runs: [BinaryTasks.Run] = []
        for task in named {
            guard let index = positions.removeValue(forKey: task.path) else {
                throw FileSyncError(
                    .unexpectedMessage,
                    "the server asked for \"\(task.path)\" (\(task.kind.rawValue)), which was not offered")
            }
            runs.append(
                BinaryTasks.Run(first: index, kind: task.kind, offset: task.offset, prefixSha256: task.prefixSha256))
        }
        tasks.runs = runs
        tasks.complete = true
    }

    /// The manifest's parts, as index ranges, that respect the server's limits.
    private func manifestParts(limit: Ready.Limits) -> [Range<Int>] {
        let maxEntries = max(1, min(limit.maxEntriesPerPart, ProtocolLimits.maxEntriesPerPart))
        let maxBytes = min(limit.maxControlPayload, ProtocolLimits.maxControlPayload) / 2
        let entries = scan.entries
        var parts = MessageParts.ranges(count: entries.count, maxCount: maxEntries, maxBytes: maxBytes) {
            entries.pathByteCount(at: $0)
        }
        // A short first part is planned and answered at once: files start to flow while the server
        // plans the rest.
        let first = Self.firstPartEntries
        if let head = parts.first, head.count > first {
            parts[0] = head.lowerBound..<head.lowerBound + first
            parts.insert(head.lowerBound + first..<head.upperBound, at: 1)
        }
        return parts
    }

    /// At most this many entries in the first manifest part.
    static let firstPartEntries = 1_000
}

/// The server ended the session with an `ERROR` message.
public struct ServerRefusal: Error, CustomStringConvertible {
    public let error: ErrorMessage
    public var description: String { "the server refused: \(error.message) [\(error.code)]" }
}

/// This build's version string.
public enum FileSyncVersion {
    public static let string = "1.0.0"
}
