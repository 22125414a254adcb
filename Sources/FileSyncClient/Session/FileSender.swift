import Crypto
import FileSyncCore
import FileSyncSystem
import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streams files as `FILE_HEADER`, data frames and `FILE_END`, in blocks, so memory never grows
/// with file size. Small files are batched into one write; large ones flow under backpressure.
struct FileSender {
    let source: String
    let outbound: NIOAsyncChannelOutboundWriter<Frame>
    /// The connection's event loop, to wait on after each batch (see ``flush()``).
    let eventLoop: any EventLoop
    let compressor: BlockCompressor?
    let stats: TransferStats
    private var rateLimit: RateLimit?
    /// 1 MiB, or smaller under `--bwlimit` so that a frame completes every quarter second or so
    /// (the server counts complete frames as activity).
    private let blockSize: Int
    /// Whether files of at most one block go as one file frame (the `fileFrames` capability).
    private let fileFrames: Bool
    /// The chunk memos of large files from previous runs, if the cache can be used.
    private let chunkCache: ChunkCache?
    private let encoder = FrameEncoderJSON()
    /// The folder of the last file opened (see ``openSourceFile(_:)``).
    private var folder: SourceFolder?
    private var batch: [Frame] = []
    private var batchBytes = 0
    private static let batchLimit = 1 << 20
    /// Completes once the event loop has taken the batches written before it (see ``flush()``).
    private var taken: EventLoopFuture<Void>?
    private var batchesSinceWait = 0
    private static let batchesPerWait = 4

    init(
        source: String, outbound: NIOAsyncChannelOutboundWriter<Frame>, eventLoop: any EventLoop,
        compressor: BlockCompressor?, stats: TransferStats,
        bytesPerSecond: Int64? = nil, fileFrames: Bool = false, chunkCache: ChunkCache? = nil
    ) {
        self.fileFrames = fileFrames
        self.chunkCache = chunkCache
        self.source = source
        self.outbound = outbound
        self.eventLoop = eventLoop
        self.compressor = compressor
        self.stats = stats
        self.rateLimit = bytesPerSecond.map(RateLimit.init(bytesPerSecond:))
        self.blockSize =
            bytesPerSecond.map { Int(min(Int64(ProtocolLimits.blockSize), max(4096, $0 / 4))) }
            ?? ProtocolLimits.blockSize
    }

    /// The outcome of sending one file, as far as the client can tell before the server's answer.
    enum Outcome {
        /// Sent whole; the server's `FILE_ACK` decides.
        case sent
        /// Not sent (or abandoned with `FILE_ABORT`), for this reason.
        case skipped(String)
    }

    /// Server messages that arrive during the transfer (`CHUNK_NEED`); acknowledgements go elsewhere.
    typealias Events = ServerEvent.Iterator

    /// Sends one file, from where the server's partial copy ends when `task` offers to resume and
    /// the file's first bytes still match; otherwise whole. Throws only when the connection fails.
    mutating func send(_ entry: ManifestEntry, task: TransferTask, events: inout Events) async throws -> Outcome {
        let fd = openSourceFile(entry.path)
        guard fd >= 0 else {
            let reason =
                errno == ENOENT ? "vanished since the scan" : "cannot open: \(String(cString: strerror(errno)))"
            return .skipped(reason)
        }
        defer { close(fd) }
        // Checked before any read: reading a FIFO that replaced the file would take its data.
        var before = stat()
        guard fstat(fd, &before) == 0, before.st_mode & S_IFMT == S_IFREG else {
            return .skipped("no longer a regular file")
        }
        guard Int64(before.st_size) == entry.size, before.mtimeNs == entry.mtimeNs else {
            return .skipped("changed since the scan; it will be sent on the next run")
        }
        if fileFrames && task.kind == .full && entry.size <= Int64(min(blockSize, WholeFile.maxSize)) {
            return try await sendWhole(entry, fd: fd, before: before)
        }
        if task.kind == .chunked || task.kind == .delta {
            return try await sendChunks(entry, fd: fd, before: before, kind: task.kind, events: &events)
        }
        var hasher = SHA256()
        var start: Int64 = 0
        if task.kind == .resume, let offset = task.offset, let prefix = task.prefixSha256, offset >= 1,
            offset <= entry.size
        {
            if let prefixHasher = Self.hashPrefix(fd, length: offset), prefixHasher.finalize().hexString == prefix {
                hasher = prefixHasher
                start = offset
                stats.resumed(offset)
            } else {
                // The file's start differs from the server's partial copy: send it all again.
                guard lseek(fd, 0, SEEK_SET) == 0 else {
                    return .skipped("cannot rewind: \(String(cString: strerror(errno)))")
                }
            }
        }
        try await append(
            .fileHeader(
                FileHeader(
                    path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode,
                    offset: start > 0 ? start : nil)))

        var remaining = entry.size - start
        var compressing = compressor != nil
        var firstBlock = true
        while remaining > 0 {
            let want = Int(min(Int64(blockSize), remaining))
            var block = ByteBufferAllocator().buffer(capacity: want)
            var readError: Int32 = 0
            let count = block.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { buffer in
                var result: Int
                repeat { result = read(fd, buffer.baseAddress, want) } while result < 0 && errno == EINTR
                if result < 0 { readError = errno }
                return max(result, 0)
            }
            if readError != 0 { return try await abort("read failed: \(String(cString: strerror(readError)))") }
            if count == 0 { return try await abort("shrank while being read") }
            remaining -= Int64(count)
            stats.sent(count)
            if rateLimit != nil {
                try await flush()
                try await rateLimit!.pace(count)
            }
            block.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            try await appendData(block, compressing: &compressing, firstBlock: firstBlock)
            firstBlock = false
        }
        var after = stat()
        guard fstat(fd, &after) == 0, after.st_size == before.st_size, after.mtimeNs == before.mtimeNs else {
            return try await abort("changed while being read; it will be sent on the next run")
        }
        try await append(.fileEnd(FileEnd(sha256: hasher.finalize().hexString)))
        return .sent
    }

    /// Sends a file of at most one block as one file frame: read, checked unchanged, hashed and
    /// compressed (when that pays) in one go. A file that changed while being read is not sent at
    /// all (a frame is never abandoned half way, so there is nothing to abort).
    private mutating func sendWhole(_ entry: ManifestEntry, fd: Int32, before: stat) async throws -> Outcome {
        let size = Int(entry.size)
        var content = ByteBufferAllocator().buffer(capacity: max(size, 1))
        var readError: Int32 = 0
        var total = 0
        while total < size || total == 0 {
            let count = content.writeWithUnsafeMutableBytes(minimumWritableBytes: max(size - total, 1)) { buffer in
                var result: Int
                repeat { result = read(fd, buffer.baseAddress, buffer.count) } while result < 0 && errno == EINTR
                if result < 0 { readError = errno }
                return max(result, 0)
            }
            if readError != 0 { return .skipped("read failed: \(String(cString: strerror(readError)))") }
            if count == 0 { break }
            total += count
        }
        var after = stat()
        guard total == size, fstat(fd, &after) == 0, after.st_size == before.st_size, after.mtimeNs == before.mtimeNs
        else {
            return .skipped("changed while being read; it will be sent on the next run")
        }
        stats.sent(size)
        if rateLimit != nil {
            try await flush()
            try await rateLimit!.pace(size)
        }
        let frame = content.withUnsafeReadableBytes { bytes -> Frame in
            let sha256 = ChunkHash(of: bytes)
            if let compressor, Compressibility.isWorthTrying(bytes) {
                var compressed = ByteBufferAllocator().buffer(capacity: bytes.count)
                if compressor.compress(bytes, into: &compressed) {
                    return compressed.withUnsafeReadableBytes {
                        Frame(
                            kind: .file, flags: compressor.flag,
                            payload: WholeFile.payload(
                                path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode,
                                sha256: sha256, content: $0))
                    }
                }
            }
            return Frame(
                kind: .file,
                payload: WholeFile.payload(
                    path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode, sha256: sha256,
                    content: bytes))
        }
        try await append(frame)
        return .sent
    }

    /// Chunks in a `delta` round: about 128 MiB of file per `CHUNK_LIST`, so the server copies the
    /// chunks it holds from one round while the client reads and hashes the next.
    static let chunksPerRound = 1024

    /// Sends a file as content-defined chunks: all of them (`chunked`), or a chunk list per round
    /// and then only the chunks the server's `CHUNK_NEED` asks for (`delta`).
    private mutating func sendChunks(
        _ entry: ManifestEntry, fd: Int32, before: stat, kind: TransferTask.Kind, events: inout Events
    ) async throws -> Outcome {
        try await append(
            .fileHeader(
                FileHeader(
                    path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode, transfer: kind)))
        var reader = ChunkReader(
            fd: fd, fingerprint: chunkCache?.fingerprint, previous: chunkCache?.memo(for: entry.path) ?? [])
        var digest = ChunkListDigest()
        var compressing = compressor != nil
        var firstBlock = true
        do {
            if kind == .chunked {
                while let chunk = try reader.next() {
                    digest.add(chunk.entry)
                    try await appendChunk(chunk.entry.hash, chunk.bytes, compressing: &compressing, first: firstBlock)
                    firstBlock = false
                }
            } else {
                var round: [ChunkReader.Chunk] = []
                var list = ByteBuffer()
                let scratch = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: ProtocolLimits.maxChunkSize, alignment: 16)
                defer { scratch.deallocate() }
                var more = true
                while more {
                    round.removeAll(keepingCapacity: true)
                    list.clear()
                    while round.count < Self.chunksPerRound, let chunk = try reader.next() {
                        round.append(chunk)
                        digest.add(chunk.entry)
                        chunk.entry.write(to: &list)
                    }
                    more = round.count == Self.chunksPerRound
                    guard !round.isEmpty else { break }
                    try await append(Frame(kind: .chunkList, payload: list))
                    try await flush()
                    let need = try await Self.nextNeed(&events)
                    let needed = try need.needed(count: round.count)
                    stats.deduplicated(
                        zip(round, needed).reduce(Int64(0)) { $0 + ($1.1 ? 0 : Int64($1.0.entry.length)) })
                    for (index, wanted) in needed.enumerated() where wanted {
                        let chunk = round[index]
                        let bytes = UnsafeMutableRawBufferPointer(rebasing: scratch[..<chunk.entry.length])
                        guard readFully(fd, into: bytes, at: chunk.offset),
                            ChunkHash(of: UnsafeRawBufferPointer(bytes)) == chunk.entry.hash
                        else {
                            return try await abort("changed while being read; it will be sent on the next run")
                        }
                        try await appendChunk(
                            chunk.entry.hash, UnsafeRawBufferPointer(bytes), compressing: &compressing,
                            first: firstBlock)
                        firstBlock = false
                    }
                }
            }
        } catch let error as FileSyncError where error.code == .storageFailed {
            return try await abort(error.message)
        }
        var after = stat()
        guard fstat(fd, &after) == 0, after.st_size == before.st_size, after.mtimeNs == before.mtimeNs,
            digest.length == entry.size
        else {
            return try await abort("changed while being read; it will be sent on the next run")
        }
        if let remembered = reader.remembered { chunkCache?.remember(remembered, for: entry.path) }
        try await append(.fileEnd(FileEnd(sha256: digest.finalize())))
        return .sent
    }

    private static func nextNeed(_ events: inout Events) async throws -> ChunkNeed {
        switch try await events.next() {
        case .message(.chunkNeed(let need)): return need
        case .message(.error(let error)): throw ServerRefusal(error: error)
        case nil: throw FileSyncError(.connectionClosed, "the server closed the connection")
        case .message(let other):
            throw FileSyncError(.unexpectedMessage, "expected CHUNK_NEED, got \(other.kind.rawValue)")
        case .tasks: throw FileSyncError(.unexpectedMessage, "expected CHUNK_NEED, got a tasks frame")
        }
    }

    /// Appends one `CHUNK` frame: the hash, then the content, deflated when that pays.
    private mutating func appendChunk(
        _ hash: ChunkHash, _ bytes: UnsafeRawBufferPointer, compressing: inout Bool, first: Bool
    ) async throws {
        stats.sent(bytes.count)
        if rateLimit != nil {
            try await flush()
            try await rateLimit!.pace(bytes.count)
        }
        var payload = ByteBufferAllocator().buffer(capacity: ChunkHash.byteCount + bytes.count)
        hash.write(to: &payload)
        if compressing, let compressor {
            if first && !Compressibility.isWorthTrying(bytes) {
                compressing = false
            } else if compressor.compress(bytes, into: &payload) {
                try await append(Frame(kind: .chunk, flags: compressor.flag, payload: payload))
                return
            } else if first {
                compressing = false
            }
        }
        payload.writeBytes(bytes)
        try await append(Frame(kind: .chunk, payload: payload))
    }

    /// The SHA-256 state after the first `length` bytes of `fd`, leaving it positioned there.
    private static func hashPrefix(_ fd: Int32, length: Int64) -> SHA256? {
        var hasher = SHA256()
        var remaining = length
        var buffer = [UInt8](repeating: 0, count: ProtocolLimits.blockSize)
        while remaining > 0 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, Int(min(Int64($0.count), remaining))) }
            guard count > 0 else { return nil }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            remaining -= Int64(count)
        }
        return hasher
    }

    /// Writes whatever is batched; every few batches, waits until the event loop has taken the
    /// batches written before the last such wait.
    ///
    /// The writer hands each batch to the event loop as a task of its own, and only stops taking
    /// batches once the event loop has seen the socket fill up: a reader faster than the network
    /// (a chunk memo makes reading nearly free) could otherwise queue dozens of MiB on the way, in
    /// plaintext and again encrypted. These waits keep that under about 2 × ``batchesPerWait``
    /// batches; waiting after every batch cost 10% on compressible data.
    mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        try await outbound.write(contentsOf: batch)
        batchesSinceWait += 1
        if batchesSinceWait >= Self.batchesPerWait {
            batchesSinceWait = 0
            let previous = taken
            taken = eventLoop.submit {}
            try await previous?.get()
        }
        batch.removeAll(keepingCapacity: true)
        batchBytes = 0
    }

    mutating func append(_ message: Message) async throws {
        try await append(encoder.frame(message))
    }

    // MARK: - Private

    /// Opens the source file at `path` for reading, through a descriptor of its folder kept while
    /// the files of one folder follow each other (as they do in manifest order), so that each file
    /// costs a lookup of its own name only. `O_NONBLOCK` keeps a file replaced by a FIFO since the
    /// scan from blocking the open; it changes nothing for regular files.
    private mutating func openSourceFile(_ path: String) -> Int32 {
        let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let parent = slash.map { String(path[..<$0]) } ?? ""
        if folder?.path != parent {
            folder = nil
            let fd = open(parent.isEmpty ? source : source + "/" + parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { return open(source + "/" + path, flags) }
            folder = SourceFolder(path: parent, descriptor: fd)
        }
        let name = slash.map { String(path[path.utf8.index(after: $0)...]) } ?? path
        return openat(folder!.descriptor, name, flags)
    }

    private mutating func append(_ frame: Frame) async throws {
        batch.append(frame)
        batchBytes += frame.payload.readableBytes + Frame.headerSize
        if batchBytes >= Self.batchLimit { try await flush() }
    }

    private mutating func appendData(_ block: ByteBuffer, compressing: inout Bool, firstBlock: Bool) async throws {
        if compressing, let compressor {
            let attempt = block.withUnsafeReadableBytes { bytes -> ByteBuffer? in
                if firstBlock && !Compressibility.isWorthTrying(bytes) { return nil }
                var output = ByteBufferAllocator().buffer(capacity: bytes.count)
                return compressor.compress(bytes, into: &output) ? output : nil
            }
            if let compressed = attempt {
                try await append(Frame(kind: .data, flags: compressor.flag, payload: compressed))
                return
            }
            if firstBlock { compressing = false }
        }
        try await append(Frame(kind: .data, payload: block))
    }

    private mutating func abort(_ reason: String) async throws -> Outcome {
        try await append(.fileAbort(FileAbort(reason: reason)))
        return .skipped(reason)
    }
}

/// Encodes control messages with one reused `JSONEncoder`.
struct FrameEncoderJSON {
    private let encoder = JSONEncoder()

    func frame(_ message: Message) throws -> Frame {
        Frame(kind: .control, payload: ByteBuffer(bytes: try encoder.encode(message)))
    }
}

/// A descriptor of a folder of the source, closed when the last reference goes.
private final class SourceFolder {
    let path: String
    let descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
