import FileSyncCore
import FileSyncSystem
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileSender {
    /// Chunks in a `delta` round: about 128 MiB of file per chunk list, so the server copies the
    /// chunks it holds from one round while the client reads and hashes the next.
    static let chunksPerRound = 1024

    /// Sends a file as content-defined chunks (Protocol.md §5.7): all of them (`chunked`), or a
    /// chunk list per round and then only the chunks the server needs (`delta`, through `round`).
    mutating func sendChunks(
        _ entry: ManifestEntry, fd: Int32, before: stat, kind: TransferTask.Kind, round: ChunkRound
    ) async throws -> Outcome {
        try await append(frames.header(entry, transfer: kind))
        stats.started(entry.path, at: 0, counting: kind == .chunked)
        defer { stats.finished() }
        var reader = ChunkReader(
            fd: fd, fingerprint: chunkCache?.fingerprint, previous: chunkCache?.memo(for: entry.path) ?? [])
        var digest = ChunkListDigest()
        var trial = TransferFrames.CompressionTrial(compressor: frames.compressor)
        var neededAny = kind == .chunked
        do {
            let complete =
                kind == .chunked
                ? try await sendAllChunks(&reader, of: entry.path, digest: &digest, trial: &trial)
                : try await sendDeltaRounds(
                    &reader, of: entry.path, fd: fd, digest: &digest, trial: &trial,
                    round: round, neededAny: &neededAny)
            guard complete else { return try await abort("changed while being read; it will be sent on the next run") }
        } catch let error as FileSyncError where error.code == .storageFailed {
            return try await abort(error.message)
        }
        guard Self.unchanged(fd, since: before), digest.length == entry.size else {
            return try await abort("changed while being read; it will be sent on the next run")
        }
        if let remembered = reader.remembered { chunkCache?.remember(remembered, for: entry.path) }
        try await append(frames.end(sha256: digest.finalize()))
        lastSentNoContent = !neededAny
        return .sent
    }

    /// A `chunked` transfer: every chunk, in file order. Returns `true` (nothing is re-read).
    private mutating func sendAllChunks(
        _ reader: inout ChunkReader, of path: String, digest: inout ChunkListDigest,
        trial: inout TransferFrames.CompressionTrial
    ) async throws -> Bool {
        while let chunk = try reader.next() {
            digest.add(chunk.entry)
            try await paced(chunk.bytes.count, of: path, at: chunk.offset)
            try await append(frames.chunk(chunk.entry.hash, chunk.bytes, trial: &trial))
        }
        return true
    }

    /// A `delta` transfer: rounds of a chunk list, the server's answer, and the chunks it needs,
    /// re-read and checked against their listed hash. Returns `false` when one no longer matches.
    private mutating func sendDeltaRounds(
        _ reader: inout ChunkReader, of path: String, fd: Int32, digest: inout ChunkListDigest,
        trial: inout TransferFrames.CompressionTrial, round: ChunkRound, neededAny: inout Bool
    ) async throws -> Bool {
        var chunks: [ChunkReader.Chunk] = []
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: ProtocolLimits.maxChunkSize, alignment: 16)
        defer { scratch.deallocate() }
        var more = true
        while more {
            chunks.removeAll(keepingCapacity: true)
            while chunks.count < Self.chunksPerRound, let chunk = try reader.next() {
                chunks.append(chunk)
                digest.add(chunk.entry)
            }
            more = chunks.count == Self.chunksPerRound
            guard !chunks.isEmpty else { break }
            try await append(TransferFrames.chunkList(chunks.lazy.map(\.entry)))
            try await flush()
            let needed = try await round(chunks.count)
            if needed.contains(true) { neededAny = true }
            stats.deduplicated(zip(chunks, needed).reduce(Int64(0)) { $0 + ($1.1 ? 0 : Int64($1.0.entry.length)) })
            for (index, wanted) in needed.enumerated() where wanted {
                let chunk = chunks[index]
                let bytes = UnsafeMutableRawBufferPointer(rebasing: scratch[..<chunk.entry.length])
                guard readFully(fd, into: bytes, at: chunk.offset),
                    ChunkHash(of: UnsafeRawBufferPointer(bytes)) == chunk.entry.hash
                else { return false }
                try await paced(bytes.count, of: path, at: chunk.offset)
                try await append(frames.chunk(chunk.entry.hash, UnsafeRawBufferPointer(bytes), trial: &trial))
            }
        }
        return true
    }
}
