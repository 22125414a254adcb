import FileSyncCore
import NIOCore

/// The frames that carry one file (Protocol.md §4 FILE_HEADER … FILE_END, file frames, §5.4,
/// §5.7), built from bytes already read: no file or socket I/O, so that a restore, where the
/// server sends and the client receives, can share these codecs with the backup's send side.
struct TransferFrames {
    let compressor: BlockCompressor?
    private let control = ControlMessageEncoder()

    init(compressor: BlockCompressor?) {
        self.compressor = compressor
    }

    /// A control frame; every one the send side writes goes through ``ControlMessageEncoder``.
    func control(_ message: Message) throws -> Frame {
        try control.frame(message)
    }

    /// `FILE_HEADER`: data frames follow from `offset` (resume, §5.3), or chunks (`transfer`, §5.7).
    func header(_ entry: ManifestEntry, offset: Int64? = nil, transfer: TransferTask.Kind? = nil) throws -> Frame {
        try control(
            .fileHeader(
                FileHeader(
                    path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode, offset: offset,
                    transfer: transfer)))
    }

    /// `FILE_END` with the content's SHA-256, or the chunk-list digest of a chunked transfer.
    func end(sha256: String) throws -> Frame { try control(.fileEnd(FileEnd(sha256: sha256))) }

    /// `FILE_ABORT`: the file being sent is abandoned.
    func abort(reason: String) throws -> Frame { try control(.fileAbort(FileAbort(reason: reason))) }

    /// One data frame of file content, compressed when the trial says so and it pays.
    func data(_ block: ByteBuffer, trial: inout CompressionTrial) -> Frame {
        var compressed = ByteBuffer()
        let flags = block.withUnsafeReadableBytes { bytes in
            if trial.wouldTry { compressed = ByteBufferAllocator().buffer(capacity: bytes.count) }
            return trial.compress(bytes, into: &compressed, compressor: compressor)
        }
        guard let flags else { return Frame(kind: .data, payload: block) }
        return Frame(kind: .data, flags: flags, payload: compressed)
    }

    /// One chunk frame: the chunk's hash, then its content, compressed as for data frames.
    func chunk(_ hash: ChunkHash, _ bytes: UnsafeRawBufferPointer, trial: inout CompressionTrial) -> Frame {
        var payload = ByteBufferAllocator().buffer(capacity: ChunkHash.byteCount + bytes.count)
        hash.write(to: &payload)
        if let flags = trial.compress(bytes, into: &payload, compressor: compressor) {
            return Frame(kind: .chunk, flags: flags, payload: payload)
        }
        payload.writeBytes(bytes)
        return Frame(kind: .chunk, payload: payload)
    }

    /// A chunk-list frame of these entries (§5.7).
    static func chunkList(_ entries: some Sequence<ChunkEntry>) -> Frame {
        var list = ByteBuffer()
        for entry in entries { entry.write(to: &list) }
        return Frame(kind: .chunkList, payload: list)
    }

    /// A whole file in one file frame (`fileFrames`), compressed only when the content looks
    /// compressible and shrinks.
    func wholeFile(_ entry: ManifestEntry, content bytes: UnsafeRawBufferPointer) -> Frame {
        let sha256 = ChunkHash(of: bytes)
        func frame(_ content: UnsafeRawBufferPointer, flags: Frame.Flags) -> Frame {
            Frame(
                kind: .file, flags: flags,
                payload: WholeFile.payload(
                    path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode, sha256: sha256,
                    content: content))
        }
        if let compressor, Compressibility.isWorthTrying(bytes) {
            var compressed = ByteBufferAllocator().buffer(capacity: bytes.count)
            if compressor.compress(bytes, into: &compressed) {
                return compressed.withUnsafeReadableBytes { frame($0, flags: compressor.flag) }
            }
        }
        return frame(bytes, flags: [])
    }

    /// Whether a file's blocks are still worth compressing: a first block that does not look
    /// compressible, or does not shrink, turns compression off for the rest of the file.
    struct CompressionTrial {
        private var compressing: Bool
        private var first = true

        init(compressor: BlockCompressor?) {
            compressing = compressor != nil
        }

        /// Whether the next block will be offered to the compressor.
        var wouldTry: Bool { compressing }

        /// Appends `bytes` compressed to `payload` and returns the frame's flags, if compression
        /// is tried and pays; otherwise leaves `payload` as it was and returns `nil`.
        mutating func compress(
            _ bytes: UnsafeRawBufferPointer, into payload: inout ByteBuffer, compressor: BlockCompressor?
        ) -> Frame.Flags? {
            defer { first = false }
            guard compressing, let compressor else { return nil }
            if first && !Compressibility.isWorthTrying(bytes) {
                compressing = false
            } else if compressor.compress(bytes, into: &payload) {
                return compressor.flag
            } else if first {
                compressing = false
            }
            return nil
        }
    }
}
