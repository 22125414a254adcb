import Crypto
import FileSyncCore
import FileSyncServer
import NIOCore
import TestSupport
import Testing

@Suite("Restore sender")
struct RestoreSenderTests {
    static func source() -> MemorySnapshotSource {
        var source = MemorySnapshotSource()
        source.addFolder("docs")
        source.addFile("docs/a.txt", TestData.text(5000))
        source.addFile("big.bin", TestData.random(3 << 20, seed: 1))
        source.addFile("broken", TestData.random(100, seed: 2))
        source.damaged = ["broken"]
        return source
    }

    /// Runs a session: `RESTORE` of everything, then `wants`; returns the frames after the list.
    static func run(
        _ wants: [RestoreWant.File], source: MemorySnapshotSource = source(), compressor: BlockCompressor? = nil,
        chunkDigest: Bool = false
    ) async throws -> (list: [RestoreEntry], frames: [Frame]) {
        let sink = FrameCollector()
        var sender = try RestoreSender(source: source, sink: sink, compressor: compressor, chunkDigest: chunkDigest)
        #expect(try await sender.receive(.restore(Restore())) == false)
        let list = sink.messages.flatMap { message -> [RestoreEntry] in
            guard case .restoreList(let part) = message else { return [] }
            return part.entries
        }
        sink.frames.removeAll()
        #expect(try await sender.receive(.restoreWant(RestoreWant(files: wants, final: true))) == true)
        return (list, sink.frames)
    }

    @Test("a whole file: FILE_HEADER, data frames of at most 1 MiB, FILE_END with its SHA-256; then RESTORE_END")
    func whole() async throws {
        let (list, frames) = try await Self.run([RestoreWant.File(entry: 2)])
        #expect(list.map(\.path) == ["docs", "docs/a.txt", "big.bin", "broken"])
        #expect(list[2].chunks?.count ?? 0 > 1)
        let data = frames.filter { $0.kind == .data }
        #expect(data.count == 3 && data.allSatisfy { $0.payload.readableBytes <= 1 << 20 && $0.flags.isEmpty })
        let content = data.flatMap { Array($0.payload.readableBytesView) }
        #expect(content == Self.source().contents["big.bin"])
        let messages = frames.filter { $0.kind == .control }.map { try? Message(frame: $0) }
        #expect(
            messages.first
                == .fileHeader(FileHeader(path: "big.bin", size: 3 << 20, mtimeNs: list[2].mtimeNs, mode: 0o640)))
        #expect(messages.dropFirst().first == .fileEnd(FileEnd(sha256: list[2].sha256!)))
        #expect(messages.last == .restoreEnd(RestoreEnd(files: 1, bytes: 3 << 20, failed: 0)))
    }

    /// The source with `big.bin` named by its chunks, and that file's chunk-list digest.
    static func namedByChunks() -> (source: MemorySnapshotSource, digest: String) {
        var source = source()
        let digest = source.nameByChunks("big.bin")
        return (source, digest)
    }

    @Test("a file named by its chunks is listed by its chunk-list digest to a client with chunkDigest")
    func listedByChunkListDigest() async throws {
        let (source, digest) = Self.namedByChunks()
        let (list, frames) = try await Self.run([RestoreWant.File(entry: 2)], source: source, chunkDigest: true)
        #expect(list[2].digest == "chunks" && list[2].sha256 == digest && list[2].chunks?.count ?? 0 > 1)
        #expect(list[1].digest == nil, "a file with a whole SHA-256 is listed by it")
        #expect(frames.contains { (try? Message(frame: $0)) == .fileEnd(FileEnd(sha256: digest)) })
    }

    @Test("without chunkDigest the same file is listed by its whole SHA-256, computed as it is read")
    func oldClientGetsTheWholeSha256() async throws {
        let (source, digest) = Self.namedByChunks()
        let (list, frames) = try await Self.run([RestoreWant.File(entry: 2)], source: source)
        let whole = SHA256.hash(data: source.contents["big.bin"]!).hexString
        #expect(list[2].digest == nil && list[2].sha256 == whole && whole != digest)
        #expect(frames.contains { (try? Message(frame: $0)) == .fileEnd(FileEnd(sha256: whole)) })
        let content = frames.filter { $0.kind == .data }.flatMap { Array($0.payload.readableBytesView) }
        #expect(content == source.contents["big.bin"])

        // Content damaged since the snapshot is not vouched for: it keeps the digest, which the
        // client's check of the whole SHA-256 then fails.
        var damaged = source
        damaged.contents["big.bin"]![5] ^= 1
        damaged.trustsContent = true
        let (listed, _) = try await Self.run([], source: damaged)
        #expect(listed[2].sha256 == digest && listed[2].digest == nil)
    }

    @Test("from an offset, only the rest travels; FILE_END still names the whole content")
    func offset() async throws {
        let (list, frames) = try await Self.run([RestoreWant.File(entry: 2, offset: 1_500_000)])
        let content = frames.filter { $0.kind == .data }.flatMap { Array($0.payload.readableBytesView) }
        #expect(content == Array(Self.source().contents["big.bin"]![1_500_000...]))
        #expect(frames.contains { (try? Message(frame: $0)) == .fileEnd(FileEnd(sha256: list[2].sha256!)) })
    }

    @Test("chunks asked travel as chunk frames, hash first, in the order asked")
    func chunks() async throws {
        let (list, frames) = try await Self.run([RestoreWant.File(entry: 2, chunks: [0, 2])])
        let chunks = list[2].chunks!
        let sent = frames.filter { $0.kind == .chunk }
        #expect(sent.count == 2)
        let hashes = sent.map { frame -> String in
            var payload = frame.payload
            return ChunkHash(reading: &payload)!.description
        }
        #expect(hashes == [chunks[0].sha256, chunks[2].sha256])
        guard case .fileHeader(let header) = try Message(frame: frames[0]) else { Issue.record("no header"); return }
        #expect(header.transfer == .chunked)
    }

    @Test("content the source cannot read is FILE_ABORT, and the session goes on")
    func abort() async throws {
        let (_, frames) = try await Self.run([RestoreWant.File(entry: 1), RestoreWant.File(entry: 3)])
        let kinds = frames.filter { $0.kind == .control }.compactMap { try? Message(frame: $0).kind }
        #expect(kinds == [.fileHeader, .fileEnd, .fileHeader, .fileAbort, .restoreEnd])
        #expect(
            frames.compactMap { try? Message(frame: $0) }.last
                == .restoreEnd(RestoreEnd(files: 1, bytes: 5000, failed: 1)))
    }

    @Test("stored content that does not match its SHA-256 is aborted, not ended")
    func damagedContent() async throws {
        var source = Self.source()
        source.contents["docs/a.txt"]![10] ^= 1
        let (_, frames) = try await Self.run([RestoreWant.File(entry: 1)], source: source)
        let kinds = frames.filter { $0.kind == .control }.compactMap { try? Message(frame: $0).kind }
        #expect(kinds == [.fileHeader, .fileAbort, .restoreEnd])
    }

    @Test("with a codec, compressible data frames are compressed; random ones stay stored")
    func compression() async throws {
        let (_, frames) = try await Self.run(
            [RestoreWant.File(entry: 1), RestoreWant.File(entry: 2)], compressor: .zlib(try Deflater(level: 1)))
        let data = frames.filter { $0.kind == .data }
        #expect(data.first?.flags == .deflated)
        #expect(data.dropFirst().allSatisfy { $0.flags.isEmpty })
        var inflated = ByteBuffer()
        try BlockDecompressor(allowed: .deflated).decompress(
            data[0].payload, flags: .deflated, into: &inflated, maxOutput: 1 << 20)
        #expect(Array(inflated.readableBytesView) == TestData.text(5000))
    }
}
