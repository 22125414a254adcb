import FileSyncCore
import Logging
import NIOCore

extension ClientSession {
    /// The whole conversation of a backup on an open connection; `acks` are those the reading task records.
    func converse(
        _ events: inout ServerEvent.Iterator, link: Link, acks: Acknowledgements, check: FingerprintCheck,
        knownServers: KnownServers
    ) async throws -> Outcome {
        let (ready, features) = try await handshake(&events, link: link, check: check, knownServers: knownServers)
        if options.dryRun { return try await dryRun(&events, ready: ready, features: features, link: link) }
        let (symlinks, specials) = (features.contains(.metadata), features.contains(.specials))
        let hardlinks = features.contains(.hardlinks)
        guard
            (symlinks || !scan.entries.hasSymlinks) && (specials || !scan.entries.hasSpecials)
                && (hardlinks || !scan.entries.hasHardLinks)
        else {
            // A server without `metadata` gets today's manifest: files and folders only; one
            // without `specials`, no FIFO, socket or device.
            var session = self
            let kept = try scan.entries.keeping(symlinks: symlinks, specials: specials, hardlinks: hardlinks)
            session.scan.entries = kept.manifest
            var outcome = try await session.exchange(&events, ready: ready, features: features, link: link, acks: acks)
            (outcome.symlinksLeftOut, outcome.specialsLeftOut) = (kept.symlinks, kept.specials)
            return outcome
        }
        return try await exchange(&events, ready: ready, features: features, link: link, acks: acks)
    }

    /// The backup after `READY`: the manifest, the files, `NEXT_SYNC`.
    private func exchange(
        _ events: inout ServerEvent.Iterator, ready: Ready, features: SessionFeatures, link: Link,
        acks: Acknowledgements
    ) async throws -> Outcome {
        var outcome = Outcome()
        outcome.serverName = ready.serverName
        outcome.deletionsWithheld = deletionsWithheld(features)
        try await sendManifest(limits: ready.limits, features: features, link: link)
        var sender = FileSender(
            source: options.source, outbound: link.outbound, eventLoop: link.channel.eventLoop,
            compressor: try compressor(features), stats: stats, bytesPerSecond: options.bytesPerSecond,
            fileFrames: features.contains(.fileFrames),
            chunkCache: options.chunkCacheDirectory.flatMap { ChunkCache(directory: $0, id: options.clientID) })
        sender.sources = options.sources
        if options.bytesPerSecond == nil && features.contains(.fileFrames) {
            sender.prefetcher = try WholeFilePrefetcher { try compressor(features) }
        }
        var machine = SendStateMachine(manifest: scan.entries, features: features)
        do {
            // The excluded paths go only now, after both peers proved the secret (Protocol.md §6.5).
            let done = Done(
                excluded: features.contains(.keepExcluded) ? options.keepingExcluded : nil,
                excludeRules: features.contains(.excludeRules) ? options.excludeRules : nil)
            outcome.unchanged = try await transfer(&events, machine: &machine, sender: &sender, done: done)
        } catch let error where error is ChannelError || error is IOError {
            // A write failed: the server may have ended the session with ERROR (about a later manifest
            // part, say) before it closed. Its reason is the one to report, not the lost connection.
            throw await Self.refusal(pendingIn: &events) ?? error
        }
        guard case .nextSync(let next) = try await next(&events) else {
            throw FileSyncError(.unexpectedMessage, "expected NEXT_SYNC")
        }
        outcome.next = next
        var tally = AckTally(manifest: scan.entries, failed: machine.failed)
        try acks.tally(into: &tally, binary: features.contains(.binaryTasks), tasks: machine.tasks.runs)
        outcome.stored = tally.stored
        outcome.failed = tally.failed
        for entry in outcome.stored.entries where machine.sent.contains(entry) {
            // A delta of which the server needed nothing changed metadata only (a touch).
            if sender.contentUnchanged.contains(entry) {
                outcome.metadataOnly += 1
            } else {
                outcome.bytesSent += scan.entries.size(at: entry)
            }
        }
        return outcome
    }

    /// The compressor for file content: zstd when in force, else zlib, else none.
    private func compressor(_ features: SessionFeatures) throws -> BlockCompressor? {
        if options.compressionLevel == 0 { return nil }
        if features.contains(.zstd) { return .zstd(try ZstdCompressor(level: options.zstdLevel)) }
        if features.contains(.deflate) { return .zlib(try Deflater(level: options.compressionLevel)) }
        return nil
    }

    /// Sends the manifest in parts within the server's limits: manifest frames with
    /// `binaryManifest`, `CLIENT_FILES_INFO` messages otherwise.
    func sendManifest(limits: Ready.Limits, features: SessionFeatures, link: Link) async throws {
        let parts = manifestParts(limit: limits)
        for (index, range) in parts.enumerated() {
            let final = index == parts.count - 1
            let part = scan.entries[range]
            if features.contains(.binaryManifest) {
                try await link.outbound.write(
                    Frame(
                        kind: .manifest,
                        payload: BinaryManifest.encode(
                            part, final: final, metadata: features.contains(.metadata),
                            xattrs: features.contains(.xattrs))))
            } else {
                let entries =
                    !features.contains(.metadata)
                    ? part.map(\.withoutOwner) : features.contains(.xattrs) ? Array(part) : part.map(\.withoutXattrs)
                try await link.write(.filesInfo(FilesInfo(entries: entries, final: final)))
            }
        }
    }

    /// Carries out the send state machine's actions until `DONE` has gone; returns the number of
    /// files that needed nothing.
    private func transfer(
        _ events: inout ServerEvent.Iterator, machine: inout SendStateMachine, sender: inout FileSender, done: Done
    ) async throws -> Int {
        var actions = machine.start()[...]
        stats.planned(files: 0, bytes: 0, newSession: true)
        while let action = actions.popFirst() {
            switch action {
            case .awaitTasks:
                try await sender.flush()
                actions += try machine.handle(.tasksArrived(try await taskPart(&events)))
                notePlan(machine.tasks.runs)
            case .sendFile(let entry, let task):
                stats.progressed(current: scan.entries.path(at: entry))
                if sender.prefetcher != nil {
                    let upcoming = machine.upcomingFullTasks(limit: WholeFilePrefetcher.depth)
                    sender.prefetch(upcoming.map { scan.entries[$0] })
                }
                let outcome = try await sender.send(scan.entries[entry], task: task) { count in
                    try await chunkRound(count, events: &events, machine: &machine)
                }
                if outcome == .sent && sender.lastSentNoContent { _ = sender.contentUnchanged.insert(entry) }
                stats.progressed(current: nil, finishedSize: scan.entries.size(at: entry))
                actions += try machine.handle(.fileFinished(outcome))
            case .sendDone(let unchanged):
                logger.info(
                    "the server's tasks are done",
                    metadata: ["asked": "\(machine.tasks.taskCount)", "unchanged": "\(unchanged)"])
                try await sender.append(.done(done))
                try await sender.flush()
                return unchanged
            case .awaitChunkNeed, .sendChunks:
                preconditionFailure("\(action) outside a chunk round")
            }
        }
        preconditionFailure("the send state machine stopped before DONE")
    }

    /// Counts what the task list asks so far, for the progress display.
    private func notePlan(_ runs: [BinaryTasks.Run]) {
        var files = 0
        var bytes: Int64 = 0
        for run in runs {
            for position in run.first..<run.first + run.count where scan.entries.type(at: position) == .file {
                files += 1
                bytes += scan.entries.size(at: position)
            }
        }
        stats.planned(files: files, bytes: bytes, newSession: false)
    }

    /// One `delta` round, once the sender has flushed its chunk list: the state machine's wait for
    /// `CHUNK_NEED`, and the flags of the chunks it asks for.
    private func chunkRound(
        _ count: Int, events: inout ServerEvent.Iterator, machine: inout SendStateMachine
    ) async throws -> [Bool] {
        guard try machine.handle(.chunkListSent(count: count)) == [.awaitChunkNeed] else {
            preconditionFailure("a chunk list must be answered by CHUNK_NEED")
        }
        let event: SendStateMachine.Event
        switch try await nextEvent(&events) {
        case .message(.chunkNeed(let need)): event = .chunkNeedArrived(need)
        case .tasks(let part): event = .tasksArrived(.binary(part))
        case .message(let other):
            throw FileSyncError(.unexpectedMessage, "expected CHUNK_NEED, got \(other.kind.rawValue)")
        }
        guard case .sendChunks(let needed) = try machine.handle(event).first else {
            preconditionFailure("CHUNK_NEED must be answered by chunks")
        }
        return needed
    }

    /// The next part of the task list, in either form.
    private func taskPart(_ events: inout ServerEvent.Iterator) async throws -> SendStateMachine.TaskPart {
        switch try await nextEvent(&events) {
        case .tasks(let part): return .binary(part)
        case .message(.tasks(let part)): return .json(part)
        case .message(let other): throw FileSyncError(.unexpectedMessage, "expected TASKS, got \(other.kind.rawValue)")
        }
    }

    /// The manifest's parts, as index ranges, that respect the server's limits.
    func manifestParts(limit: Ready.Limits) -> [Range<Int>] {
        let maxEntries = max(1, min(limit.maxEntriesPerPart, ProtocolLimits.maxEntriesPerPart))
        let maxBytes = min(limit.maxControlPayload, ProtocolLimits.maxControlPayload) / 2
        let entries = scan.entries
        // A symlink's target and extended attributes cost what as many path bytes would (more than
        // their base64 and escaped names in JSON).
        var parts = MessageParts.ranges(count: entries.count, maxCount: maxEntries, maxBytes: maxBytes) {
            entries.pathByteCount(at: $0) + entries.targetByteCount(at: $0) + entries.xattrByteCount(at: $0)
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

    /// Why a run that asked to keep its excluded paths deletes nothing: a server without
    /// `keepExcluded` took HELLO's `mirrorDeletions: false` (Protocol.md §6.5); `nil` otherwise.
    func deletionsWithheld(_ features: SessionFeatures) -> String? {
        guard !(options.keepingExcluded ?? []).isEmpty && !features.contains(.keepExcluded) else { return nil }
        let reason = "the server cannot keep excluded paths (it lacks keepExcluded); nothing was deleted"
        logger.warning(Logger.Message(stringLiteral: reason))
        return reason
    }
}
