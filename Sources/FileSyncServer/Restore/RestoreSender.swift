import Crypto
import FileSyncCore
import NIOCore

/// Drives a ``RestoreSendStateMachine`` for one restore session: feed it each control message the
/// client sends with ``receive(_:)``; it answers through the ``FrameSink`` (the `RESTORE_LIST`
/// parts, then every wanted file and `RESTORE_END`) with content read from the
/// ``SnapshotContentSource``, a block at a time: it holds about one write batch (1 MiB) of frames
/// and one block, whatever the file sizes.
///
/// Data and chunk frames are compressed by the client's rules for backups (Protocol.md §5.4): the
/// entropy of the first block decides, and a file whose first block does not shrink goes stored.
public struct RestoreSender {
    let source: any SnapshotContentSource
    let sink: any FrameSink
    let compressor: BlockCompressor?
    /// Whether the client takes files listed by their chunk-list digest (`chunkDigest`).
    let chunkDigest: Bool
    /// Whether the client takes a list that names the folders the source could not read
    /// (`unreadableFolders`); otherwise such a folder fails the whole restore.
    let unreadableFolders: Bool
    /// The folders the listing could not read (with ``unreadableFolders``), for the server's log.
    public private(set) var unreadable: [String] = []
    private var machine: RestoreSendStateMachine
    private let encoder = ControlMessageEncoder()
    var batch: [Frame] = []
    private var batchBytes = 0
    private static let batchLimit = 1 << 20

    /// - Parameters:
    ///   - compressor: the negotiated codec (zstd when both announced it, else zlib), `nil` for none.
    ///   - maxPartBytes: the JSON budget of one `RESTORE_LIST` part (smaller only in tests).
    ///   - symlinks: whether symlinks are listed (`metadata` in force).
    ///   - xattrs: whether entries carry their extended attributes (`xattrs` in force).
    ///   - specials: whether FIFOs, sockets and devices are listed (`specials` in force).
    ///   - chunkDigest: whether a file the snapshot names by its chunks is listed so (`chunkDigest`
    ///     in force); otherwise its whole SHA-256 is computed before it is listed.
    ///   - unreadableFolders: whether a folder the source cannot read is named in the list
    ///     (`unreadableFolders` in force) rather than failing the restore.
    /// - Throws: when the source cannot list the client's snapshots.
    public init(
        source: any SnapshotContentSource, sink: any FrameSink, compressor: BlockCompressor? = nil,
        maxPartBytes: Int = ProtocolLimits.maxControlPayload / 2, symlinks: Bool = false, xattrs: Bool = false,
        specials: Bool = false, hardlinks: Bool = false, chunkDigest: Bool = false, unreadableFolders: Bool = false
    ) throws {
        self.unreadableFolders = unreadableFolders
        self.source = source
        self.sink = sink
        self.compressor = compressor
        self.chunkDigest = chunkDigest
        machine = RestoreSendStateMachine(
            snapshots: try source.snapshotDescriptions(), maxPartBytes: maxPartBytes, symlinks: symlinks,
            xattrs: xattrs, specials: specials, hardlinks: hardlinks)
    }

    /// Handles one message from the client (`RESTORE`, `RESTORE_WANT`) and everything that follows
    /// from it. Returns `true` when the session is over (`RESTORE_END` written): close the connection.
    ///
    /// - Throws: a ``FileSyncError`` to answer with `ERROR` (a refusal, or `notFound`), or the sink's error.
    public mutating func receive(_ message: Message) async throws -> Bool {
        let event: RestoreSendStateMachine.Event
        switch message {
        case .restore(let request): event = .restore(request)
        case .restoreWant(let part): event = .want(part)
        default:
            throw FileSyncError(.unexpectedMessage, "\(message.kind.rawValue) is not allowed in a restore session")
        }
        var actions = try machine.handle(event)
        while !actions.isEmpty {
            var following: [RestoreSendStateMachine.Action] = []
            for action in actions {
                switch action {
                case .loadEntries(let snapshot, let paths):
                    let listing =
                        unreadableFolders
                        ? try source.readableEntries(ofSnapshot: snapshot, under: paths)
                        : SnapshotListing(entries: try source.entries(ofSnapshot: snapshot, under: paths))
                    unreadable = listing.unreadable
                    let entries = chunkDigest ? listing.entries : listing.entries.map(withWholeSha256)
                    following += try machine.handle(.entries(entries, unreadable: listing.unreadable))
                case .send(let message):
                    try await append(encoder.frame(message))
                case .sendFile(let plan):
                    following += try machine.handle(try await send(plan))
                case .close:
                    try await flush()
                    try await sink.finish()
                    return true
                }
            }
            actions = following
        }
        try await flush()
        return false
    }

    /// `entry`, with its whole SHA-256 in place of a chunk-list digest, for a client without
    /// `chunkDigest`. Content that cannot be read or no longer matches its chunks keeps the digest:
    /// the client's check of the whole SHA-256 then fails that file, and nothing else.
    private func withWholeSha256(_ entry: SnapshotEntry) -> SnapshotEntry {
        guard entry.digestsChunks else { return entry }
        var whole = entry
        whole.digestsChunks = false
        if let sha256 = try? source.wholeSha256(of: entry) { whole.sha256 = sha256 }
        return whole
    }

    /// Sends one file as its plan says; a source that cannot produce the content, or content that
    /// does not match its hashes, ends it with `FILE_ABORT` instead of `FILE_END`.
    private mutating func send(_ plan: RestoreFilePlan) async throws -> RestoreSendStateMachine.Event {
        try await append(encoder.frame(.fileHeader(plan.header)))
        let reason: String?
        switch plan.content {
        case .range(let range): reason = try await sendRange(range, of: plan)
        case .chunks(let indices): reason = try await sendChunks(indices, of: plan.entry)
        }
        if let reason {
            try await append(encoder.frame(.fileAbort(FileAbort(reason: reason))))
            return .fileAborted
        }
        try await append(encoder.frame(.fileEnd(plan.end)))
        return .fileSent(bytes: plan.contentBytes)
    }

    /// Data frames of `range`; the reason to abort, if any. The source checks each listed chunk
    /// against its hash; content without a chunk list is checked here against the entry's SHA-256
    /// (from byte 0), so damaged storage is caught before the client's own check.
    private mutating func sendRange(_ range: Range<Int64>, of plan: RestoreFilePlan) async throws -> String? {
        var hasher: SHA256? = range.lowerBound == 0 && plan.entry.chunks.isEmpty ? SHA256() : nil
        var offset = range.lowerBound
        var compressing = compressor != nil
        while offset < range.upperBound {
            let count = Int(min(Int64(ProtocolLimits.blockSize), range.upperBound - offset))
            var block = ByteBufferAllocator().buffer(capacity: count)
            do {
                try source.read(plan.entry, at: offset, count: count, into: &block)
            } catch {
                return "cannot read the stored content: \(error)"
            }
            guard block.readableBytes == count else { return "the stored content is shorter than the snapshot says" }
            block.withUnsafeReadableBytes { hasher?.update(bufferPointer: $0) }
            try await appendBlock(.data, hash: nil, block, compressing: &compressing, first: offset == range.lowerBound)
            offset += Int64(count)
        }
        if let digest = hasher?.finalize(), digest.hexString != plan.end.sha256 {
            return "the stored content does not match its SHA-256"
        }
        return nil
    }

    /// Chunk frames of the chunks asked for, each checked against its listed length and hash.
    private mutating func sendChunks(_ indices: [Int], of entry: SnapshotEntry) async throws -> String? {
        var compressing = compressor != nil
        for (position, index) in indices.enumerated() {
            let listed = entry.chunks[index]
            let bytes: [UInt8]
            do {
                bytes = try source.chunk(index, of: entry)
            } catch {
                return "cannot read stored chunk \(index): \(error)"
            }
            let matches = bytes.withUnsafeBytes { $0.count == listed.length && ChunkHash(of: $0) == listed.hash }
            guard matches else { return "stored chunk \(index) does not match its SHA-256" }
            try await appendBlock(
                .chunk, hash: listed.hash, ByteBuffer(bytes: bytes), compressing: &compressing, first: position == 0)
        }
        return nil
    }

    /// Appends a data frame of `content`, or a chunk frame (`hash` first), compressed when that
    /// pays; a stored data frame is `content` itself, not a copy.
    private mutating func appendBlock(
        _ kind: Frame.Kind, hash: ChunkHash?, _ content: ByteBuffer, compressing: inout Bool, first: Bool
    ) async throws {
        if compressing, let compressor {
            var payload = ByteBufferAllocator().buffer(capacity: content.readableBytes + ChunkHash.byteCount)
            hash?.write(to: &payload)
            let shrank = content.withUnsafeReadableBytes { raw in
                (!first || Compressibility.isWorthTrying(raw)) && compressor.compress(raw, into: &payload)
            }
            if shrank { return try await append(Frame(kind: kind, flags: compressor.flag, payload: payload)) }
            if first { compressing = false }
        }
        guard let hash else { return try await append(Frame(kind: kind, flags: [], payload: content)) }
        var payload = ByteBufferAllocator().buffer(capacity: content.readableBytes + ChunkHash.byteCount)
        hash.write(to: &payload)
        payload.writeImmutableBuffer(content)
        try await append(Frame(kind: kind, flags: [], payload: payload))
    }

    private mutating func append(_ frame: Frame) async throws {
        batch.append(frame)
        batchBytes += frame.payload.readableBytes + Frame.headerSize
        if batchBytes >= Self.batchLimit { try await flush() }
    }

    private mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        try await sink.write(batch)
        batch.removeAll(keepingCapacity: true)
        batchBytes = 0
    }
}
