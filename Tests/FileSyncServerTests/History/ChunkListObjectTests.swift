import FileSyncCore
import Foundation
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Chunk lists in pieces")
struct ChunkListObjectTests {
    /// `count` chunks of a file of about 160 KiB each (a 1 GiB file has about 6,500), distinct.
    static func chunks(_ count: Int, seed: Int = 0) -> [ChunkEntry] {
        (0..<count).map { index in
            ChunkEntry(length: 100_000 + index % 7_919, hash: HistoryFixture.sha256(Array("\(seed)-\(index)".utf8)))
        }
    }

    static func tree(with chunks: [ChunkEntry]) -> TreeObject {
        let file = FileContent(sha256: nil, chunks: chunks, inode: 7, ctimeNs: 9)
        let size = Int64(chunks.reduce(0) { $0 + $1.length })
        return TreeObject(entries: [
            TreeEntry(name: "big", mode: 0o644, uid: 1, gid: 2, mtimeNs: 3, size: size, content: .file(file))
        ])
    }

    /// Every object the tree needs (itself and its pieces), by hash.
    static func objects(of tree: TreeObject) -> [ChunkHash: [UInt8]] {
        var objects: [ChunkHash: [UInt8]] = [:]
        for piece in tree.listObjects { objects[piece.hash] = piece.encoded() }
        let bytes = tree.encoded()
        objects[HistoryFixture.sha256(bytes)] = bytes
        return objects
    }

    @Test("a list is cut where its chunks' hashes say, pieces in order and at most the longest allowed")
    func piecesCoverTheList() {
        let chunks = Self.chunks(6_500)
        let pieces = ChunkListObject.pieces(of: chunks)
        #expect(pieces.flatMap(\.chunks) == chunks)
        #expect(pieces.allSatisfy { (1...ChunkListObject.maxPieceLength).contains($0.chunks.count) })
        for piece in pieces.dropLast() where piece.chunks.count < ChunkListObject.maxPieceLength {
            #expect(piece.chunks.last!.hash.bytes[31] % ChunkListObject.cutDivisor == 0)
            #expect(piece.chunks.dropLast().allSatisfy { $0.hash.bytes[31] % ChunkListObject.cutDivisor != 0 })
        }
        #expect(pieces.count > 20, "pieces average \(ChunkListObject.cutDivisor) chunks: \(pieces.count)")
        #expect(ChunkListObject.pieces(of: chunks) == pieces, "the cut is deterministic")
    }

    @Test("a short list stays inside its tree object, which encodes as before pieces existed")
    func shortListsStayInline() throws {
        let tree = Self.tree(with: Self.chunks(ChunkListObject.inlineLimit))
        #expect(tree.listObjects.isEmpty)
        #expect(tree.encoded().count > ChunkListObject.inlineLimit * ChunkEntry.encodedSize)
        #expect(try TreeObject(decoding: tree.encoded()) == tree)
    }

    @Test("a tree written before lists were split (a long list inline) decodes, and encodes to the same bytes again")
    func oldInlineTreesStayReadable() throws {
        var file = FileContent(sha256: nil, chunks: Self.chunks(6_500), inode: 7, ctimeNs: 9)
        file.listStoredInline = true
        let old = TreeObject(entries: [
            TreeEntry(name: "big", mode: 0o644, uid: 1, gid: 2, mtimeNs: 3, size: 1, content: .file(file))
        ])
        let bytes = old.encoded()
        #expect(bytes.count > 6_500 * ChunkEntry.encodedSize, "the list is inline")
        #expect(old.listObjects.isEmpty)
        let decoded = try TreeObject(decoding: bytes)
        #expect(decoded == old)
        #expect(decoded.encoded() == bytes, "an unchanged folder keeps its hash")
        // The same content as a new entry is split.
        #expect(!Self.tree(with: file.chunks).listObjects.isEmpty)
    }

    @Test("a long list's tree names its pieces and decodes whole from them; a missing or altered piece is refused")
    func longListsRoundTrip() throws {
        let tree = Self.tree(with: Self.chunks(6_500))
        let objects = Self.objects(of: tree)
        let bytes = tree.encoded()
        #expect(bytes.count < 4_096, "the tree holds \(bytes.count) bytes")
        let decoded = try TreeObject(decoding: bytes) { hash in
            try ChunkListObject(decoding: try #require(objects[hash]))
        }
        #expect(decoded == tree)
        #expect(throws: (any Error).self) { try TreeObject(decoding: bytes) }
        // A piece that gives other chunks than the tree was written with is refused.
        let first = tree.listObjects[0]
        var altered = first.chunks
        altered[0].length += 1
        #expect(throws: (any Error).self) {
            try TreeObject(decoding: bytes) { hash in
                hash == first.hash ? ChunkListObject(chunks: altered) : try ChunkListObject(decoding: objects[hash]!)
            }
        }
        #expect(throws: (any Error).self) { try ChunkListObject(decoding: ChunkListObject(chunks: []).encoded()) }
    }

    @Test("one chunk changed, or one inserted, in a 6,500-chunk list costs a few KB of new objects, not the list")
    func changeCostsItsPiece() {
        var chunks = Self.chunks(6_500)
        let before = Self.objects(of: Self.tree(with: chunks))
        chunks[3_000] = ChunkEntry(length: 99_999, hash: HistoryFixture.sha256([1, 2, 3]))
        let changed = Self.objects(of: Self.tree(with: chunks)).filter { before[$0.key] == nil }
        let changedBytes = changed.values.reduce(0) { $0 + $1.count }
        #expect(changedBytes < 64 << 10, "\(changed.count) new objects, \(changedBytes) bytes")
        #expect(changed.count <= 3)
        chunks.insert(ChunkEntry(length: 5_000, hash: HistoryFixture.sha256([4, 5, 6])), at: 100)
        let inserted = Self.objects(of: Self.tree(with: chunks)).filter { before[$0.key] == nil }
        let insertedBytes = inserted.values.reduce(0) { $0 + $1.count }
        #expect(insertedBytes < 64 << 10, "\(inserted.count) new objects, \(insertedBytes) bytes")
    }

    @Test("a snapshot of a large file stores its list in pieces; prune keeps them, and one byte changed adds little")
    func storedPiecesSurvivePrune() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        var content = [UInt8](repeating: 0, count: 48 << 20)
        var state: UInt64 = 99
        content.withUnsafeMutableBytes { bytes in
            for index in 0..<bytes.count / 8 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.storeBytes(of: state ^ (state >> 29), toByteOffset: index * 8, as: UInt64.self)
            }
        }
        try fixture.write("big", content)
        let first = try fixture.snapshot()
        let stored = try fixture.store.tree(try #require(first.record.rootTreeHash))
        let pieces = stored.listObjects
        #expect(!pieces.isEmpty, "a 48 MiB file has more than \(ChunkListObject.inlineLimit) chunks")
        #expect(pieces.allSatisfy { fixture.store.hasTree($0.hash) })
        let policy = RetentionPolicy(
            keepLast: 1, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0)
        #expect(try Pruner(store: fixture.store, policy: policy).prune().completed)
        #expect(pieces.allSatisfy { fixture.store.hasTree($0.hash) }, "prune deleted a piece a kept snapshot needs")
        #expect(try fixture.restore("big", from: first.record) == content)

        let usage = fixture.store.diskUsage().bytes
        var changed = content
        changed[20 << 20] ^= 0xFF
        _ = try fixture.replace("big", with: changed)
        let second = try fixture.snapshot(at: 1_800_003_600)
        // What the new version lacks of the old one is packed: the changed chunks.
        let newChunks = Set(try fixture.store.tree(try #require(second.record.rootTreeHash)).entries[0].file!.chunks)
        let chunkBytes = stored.entries[0].file!.chunks.filter { !newChunks.contains($0) }.reduce(0) { $0 + $1.length }
        let growth = fixture.store.diskUsage().bytes - usage
        #expect(growth <= Int64(chunkBytes) + (64 << 10), "grew \(growth) bytes for \(chunkBytes) bytes of chunks")
        #expect(try fixture.restore("big", from: first.record) == content)
        #expect(try fixture.restore("big", from: second.record) == changed)
    }
}
