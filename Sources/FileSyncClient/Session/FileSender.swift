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
///
/// It only reads files and writes frames (built by ``TransferFrames``); what to send next, and
/// the server's answers (`CHUNK_NEED`), are ``SendStateMachine``'s and the session's business.
struct FileSender {
    let source: String
    /// Several sources: a manifest path's first component names the folder it is read from.
    var sources: SourceSet?
    let outbound: NIOAsyncChannelOutboundWriter<Frame>
    /// The connection's event loop, to wait on after each batch (see ``flush()``).
    let eventLoop: any EventLoop
    let frames: TransferFrames
    let stats: TransferStats
    var rateLimit: RateLimit?
    /// The content of one data frame of a streamed file: 256 KiB, or smaller under `--bwlimit` so
    /// that a frame completes every quarter second or so (the server counts complete frames as
    /// activity). A cut loses the frame the server was reading (Protocol.md §5.6), so frames well
    /// under the 1 MiB limit keep what a resumed transfer sends again small.
    let blockSize: Int
    /// The largest file sent as one file frame: 1 MiB, or `blockSize` under `--bwlimit`.
    let wholeFileLimit: Int
    /// The content of a streamed data frame without `--bwlimit`.
    static let streamFrameSize = 256 << 10
    /// Whether files of at most one block go as one file frame (the `fileFrames` feature).
    let fileFrames: Bool
    /// The chunk memos of large files from previous runs, if the cache can be used.
    let chunkCache: ChunkCache?
    /// Prepares the next small files ahead (``prefetch(_:)``), without `--bwlimit` only.
    var prefetcher: WholeFilePrefetcher?
    /// Whether the last file sent was a `delta` of which the server needed no chunk: its content
    /// was what the server held (a `touch`), and only its metadata changed.
    var lastSentNoContent = false
    /// The manifest entries sent so: their metadata alone changed.
    var contentUnchanged = EntrySet()
    /// The folder of the last file opened (see ``openSourceFile(_:)``).
    private var folder: SourceFolder?
    var batch = FrameBatch()

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
        self.frames = TransferFrames(compressor: compressor)
        self.stats = stats
        self.rateLimit = bytesPerSecond.map(RateLimit.init(bytesPerSecond:))
        let pacedSize = bytesPerSecond.map { Int(min(Int64(ProtocolLimits.blockSize), max(4096, $0 / 4))) }
        self.blockSize = min(pacedSize ?? Self.streamFrameSize, Self.streamFrameSize)
        self.wholeFileLimit = min(pacedSize ?? ProtocolLimits.blockSize, WholeFile.maxSize)
    }

    /// The outcome of sending one file, as far as the client can tell before the server's answer.
    enum Outcome: Equatable {
        /// Sent whole; the server's acknowledgement decides.
        case sent
        /// Not sent (or abandoned with `FILE_ABORT`), for this reason.
        case skipped(String)
    }

    /// One round of a `delta` transfer, carried out by the session once the sender has written and
    /// flushed a chunk list of this many entries: the flags of the chunks the server needs.
    typealias ChunkRound = (_ listCount: Int) async throws -> [Bool]

    /// Sends one file, from where the server's partial copy ends when `task` offers to resume and
    /// the file's first bytes still match; otherwise whole. Throws only when the connection fails.
    mutating func send(_ entry: ManifestEntry, task: TransferTask, round: ChunkRound) async throws -> Outcome {
        lastSentNoContent = false
        if let prepared = await prefetcher?.take(entry.path) { return try await send(prepared, of: entry) }
        let fd = openSourceFile(entry.path)
        guard fd >= 0 else { return .skipped(Self.openFailure(errno)) }
        defer { close(fd) }
        var before = stat()
        if let reason = Self.check(fd, isStill: entry, status: &before) { return .skipped(reason) }
        if sendsWhole(entry, task: task) {
            return try await send(Self.prepareWhole(entry, fd: fd, before: before, frames: frames), of: entry)
        }
        if task.kind == .chunked || task.kind == .delta {
            return try await sendChunks(entry, fd: fd, before: before, kind: task.kind, round: round)
        }
        return try await sendStream(entry, task: task, fd: fd, before: before)
    }

    /// Why a file could not be opened (`code`: the `errno` of the open).
    static func openFailure(_ code: Int32) -> String {
        code == ENOENT ? "vanished since the scan" : "cannot open: \(FileSyncError.errnoText(code))"
    }

    /// Why the open file `fd` cannot be sent as the manifest's `entry`, if it cannot; `status` is
    /// its status. Checked before any read: reading a FIFO that replaced the file would take its data.
    static func check(_ fd: Int32, isStill entry: ManifestEntry, status: inout stat) -> String? {
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return "no longer a regular file" }
        guard Int64(status.st_size) == entry.size, status.mtimeNs == entry.mtimeNs else {
            return "changed since the scan; it will be sent on the next run"
        }
        return nil
    }

    /// Sends a file as `FILE_HEADER`, data frames and `FILE_END`, from the offset of a `resume`
    /// task when the file still starts as the server's partial copy.
    private mutating func sendStream(
        _ entry: ManifestEntry, task: TransferTask, fd: Int32, before: stat
    ) async throws -> Outcome {
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
                    return .skipped("cannot rewind: \(FileSyncError.errnoText(errno))")
                }
            }
        }
        try await append(frames.header(entry, offset: start > 0 ? start : nil))
        stats.started(entry.path, at: start)
        defer { stats.finished() }
        var remaining = entry.size - start
        var trial = TransferFrames.CompressionTrial(compressor: frames.compressor)
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
            if readError != 0 { return try await abort("read failed: \(FileSyncError.errnoText(readError))") }
            if count == 0 { return try await abort("shrank while being read") }
            try await paced(count, of: entry.path, at: entry.size - remaining)
            remaining -= Int64(count)
            block.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            try await append(frames.data(block, trial: &trial))
        }
        guard Self.unchanged(fd, since: before) else {
            return try await abort("changed while being read; it will be sent on the next run")
        }
        try await append(frames.end(sha256: hasher.finalize().hexString))
        return .sent
    }

    /// Notes that the next frame carries `count` bytes of content at `offset` of the file at `path`
    /// (counted as sent when its batch is written) and, under `--bwlimit`, writes what is batched
    /// and sleeps to keep to the rate.
    mutating func paced(_ count: Int, of path: String, at offset: Int64) async throws {
        if rateLimit != nil {
            try await flush()
            try await rateLimit!.pace(count)
        }
        batch.carries(count, of: path, at: offset)
    }

    /// Whether the open file's size and mtime are still those of `before`.
    static func unchanged(_ fd: Int32, since before: stat) -> Bool {
        var after = stat()
        return fstat(fd, &after) == 0 && after.st_size == before.st_size && after.mtimeNs == before.mtimeNs
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
            let fd = open(localPath(of: parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { return open(localPath(of: path), flags) }
            folder = SourceFolder(path: parent, descriptor: fd)
        }
        let name = slash.map { String(path[path.utf8.index(after: $0)...]) } ?? path
        return openat(folder!.descriptor, name, flags)
    }

    /// Where the manifest path `path` (`""`: the source's root) is read from.
    func localPath(of path: String) -> String {
        if let sources { return sources.localPath(of: path) ?? source + "/" + path }
        return path.isEmpty ? source : source + "/" + path
    }

    /// Abandons the file being sent with `FILE_ABORT`.
    mutating func abort(_ reason: String) async throws -> Outcome {
        try await append(frames.abort(reason: reason))
        return .skipped(reason)
    }
}
