import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file once, front to back, and splits it into content-defined chunks with their SHA-256.
///
/// Given the file's ``ChunkMemo`` from the previous run and the fingerprint key, the chunk that
/// followed the last one recognized is tried first: if the content at the current offset still has
/// its fingerprint, it is taken as it is, with no cut and no SHA-256. Otherwise the chunk is cut by
/// content, and its fingerprint looked up among all remembered chunks (an insertion or deletion
/// shifts the rest of the file; the first chunk after the change usually has a remembered
/// fingerprint again, and from there the remembered order resumes). Only chunks seen nowhere in the
/// memo get a SHA-256.
///
/// Large reads into one reused buffer; the bytes of a chunk stay valid until the next call.
public struct ChunkReader: ~Copyable {
    private let fd: Int32
    private let cutter: ChunkCutter
    private let buffer: UnsafeMutableRawBufferPointer
    /// Valid bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// File offset of `buffer[start]`.
    public private(set) var offset: Int64 = 0
    private let fingerprint: ChunkFingerprint?
    private let previous: [ChunkMemo.Chunk]
    /// Remembered chunks by fingerprint.
    private let previousByFingerprint: [ChunkFingerprint.Tag: Int]
    /// The remembered chunk expected next: the one after the last recognized.
    private var expected: Int? = 0
    /// This run's chunks, for the next memo; `nil` without a fingerprint key or past
    /// ``ChunkMemo/maxChunks``.
    public private(set) var remembered: [ChunkMemo.Chunk]?
    /// Bytes of chunks recognized from the memo.
    public private(set) var recognizedBytes: Int64 = 0

    /// One chunk: where it starts in the file, its entry, and its bytes (valid until the next call).
    public struct Chunk {
        public var offset: Int64
        public var entry: ChunkEntry
        public var bytes: UnsafeRawBufferPointer
    }

    /// - Parameters:
    ///   - fingerprint: the key for ``ChunkMemo`` fingerprints; `nil` neither uses nor builds a memo.
    ///   - previous: the chunks of the file's memo from the previous run (none for a new file).
    public init(
        fd: Int32, cutter: ChunkCutter = .standard, fingerprint: ChunkFingerprint? = nil,
        previous: [ChunkMemo.Chunk] = []
    ) {
        self.fd = fd
        self.cutter = cutter
        self.fingerprint = fingerprint
        let usable = fingerprint != nil && previous.allSatisfy { $0.entry.length <= cutter.maxSize }
        self.previous = usable ? previous : []
        previousByFingerprint = Dictionary(
            self.previous.enumerated().map { ($1.fingerprint, $0) }, uniquingKeysWith: { first, _ in first })
        remembered = fingerprint == nil ? nil : []
        buffer = .allocate(byteCount: max(8 << 20, cutter.maxSize * 4), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next chunk, or `nil` at the end of the file.
    ///
    /// - Throws: the read error, as an `errno` value wrapped in ``FileSyncError``.
    public mutating func next() throws -> Chunk? {
        if end - start < cutter.maxSize && !atEOF { try refill() }
        guard end > start else { return nil }
        let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        guard let fingerprint else {
            let bytes = UnsafeRawBufferPointer(rebasing: available[..<cutter.cut(available)])
            return advance(ChunkEntry(length: bytes.count, hash: ChunkHash(of: bytes)), bytes)
        }
        if let index = expected, index < previous.count, previous[index].entry.length <= available.count {
            let candidate = previous[index]
            let bytes = UnsafeRawBufferPointer(rebasing: available[..<candidate.entry.length])
            if let tag = fingerprint(bytes), tag == candidate.fingerprint {
                return recognized(index, bytes)
            }
        }
        let bytes = UnsafeRawBufferPointer(rebasing: available[..<cutter.cut(available)])
        guard let tag = fingerprint(bytes) else {
            remembered = nil
            expected = nil
            return advance(ChunkEntry(length: bytes.count, hash: ChunkHash(of: bytes)), bytes)
        }
        if let index = previousByFingerprint[tag], previous[index].entry.length == bytes.count {
            return recognized(index, bytes)
        }
        let entry = ChunkEntry(length: bytes.count, hash: ChunkHash(of: bytes))
        remember(ChunkMemo.Chunk(entry: entry, fingerprint: tag))
        expected = nil
        return advance(entry, bytes)
    }

    // MARK: - Private

    /// Takes remembered chunk `index` for `bytes`, whose fingerprint matched.
    private mutating func recognized(_ index: Int, _ bytes: UnsafeRawBufferPointer) -> Chunk {
        recognizedBytes += Int64(bytes.count)
        remember(previous[index])
        expected = index + 1
        return advance(previous[index].entry, bytes)
    }

    private mutating func advance(_ entry: ChunkEntry, _ bytes: UnsafeRawBufferPointer) -> Chunk {
        let chunk = Chunk(offset: offset, entry: entry, bytes: bytes)
        start += bytes.count
        offset += Int64(bytes.count)
        return chunk
    }

    private mutating func remember(_ chunk: ChunkMemo.Chunk) {
        guard remembered != nil else { return }
        if remembered!.count >= ChunkMemo.maxChunks {
            remembered = nil
        } else {
            remembered!.append(chunk)
        }
    }

    private mutating func refill() throws {
        if start > 0 {
            let count = end - start
            if count > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count) }
            start = 0
            end = count
        }
        while end < buffer.count {
            let count = read(fd, buffer.baseAddress! + end, buffer.count - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSyncError(.storageFailed, "read failed", errno: errno)
            }
            if count == 0 {
                atEOF = true
                return
            }
            end += count
        }
    }
}
