import FileSyncCore
import NIOCore
import TestSupport
import Testing

@Suite("Chunking") struct ChunkingTests {
    static func lengths(_ bytes: [UInt8], _ cutter: ChunkCutter = .standard) -> [Int] {
        bytes.withUnsafeBytes { cutter.lengths(of: $0) }
    }

    @Test("chunks cover the input exactly, respect the bounds, and average near the target")
    func bounds() {
        let bytes = TestData.random(16 << 20, seed: 1)
        let lengths = Self.lengths(bytes)
        let cutter = ChunkCutter.standard
        #expect(lengths.reduce(0, +) == bytes.count)
        #expect(lengths.dropLast().allSatisfy { $0 >= cutter.minSize && $0 <= cutter.maxSize })
        let average = bytes.count / lengths.count
        #expect(average > 96 << 10 && average < 192 << 10, "average chunk \(average) bytes")
    }

    @Test("an inserted byte changes only the chunks around it; later boundaries stay put")
    func insertionIsLocal() {
        let original = TestData.random(8 << 20, seed: 2)
        var edited = original
        edited.insert(0x55, at: 3 << 20)
        func boundaries(_ lengths: [Int], shift: Int, after: Int) -> Set<Int> {
            var offset = 0
            var result = Set<Int>()
            for length in lengths {
                offset += length
                if offset > after { result.insert(offset + shift) }
            }
            return result
        }
        let before = boundaries(Self.lengths(original), shift: 1, after: (3 << 20) + (1 << 20))
        let after = boundaries(Self.lengths(edited), shift: 0, after: (3 << 20) + (1 << 20) + 1)
        #expect(!before.isEmpty)
        #expect(before == after)
    }

    @Test("the same bytes always cut the same way; data shorter than the minimum is one chunk")
    func deterministic() {
        let bytes = TestData.random(2 << 20, seed: 3)
        #expect(Self.lengths(bytes) == Self.lengths(bytes))
        #expect(Self.lengths(Array(bytes.prefix(1000))) == [1000])
        #expect(Self.lengths([]) == [])
        // A run of zeros never matches the mask: it is cut at the maximum.
        #expect(Self.lengths([UInt8](repeating: 0, count: 1 << 20)) == [512 << 10, 512 << 10])
    }

    @Test("a chunk list round-trips; bad lengths and counts are refused")
    func listCodec() throws {
        let entries = (1...3).map { index in
            ChunkEntry(
                length: index * 1000,
                hash: TestData.random(10, seed: UInt64(index)).withUnsafeBytes {
                    ChunkHash(of: $0)
                })
        }
        var buffer = ByteBuffer()
        for entry in entries { entry.write(to: &buffer) }
        #expect(buffer.readableBytes == 3 * ChunkEntry.encodedSize)
        #expect(try ChunkEntry.list(from: buffer) == entries)

        #expect(throws: FileSyncError.self) { try ChunkEntry.list(from: ByteBuffer()) }
        var truncated = buffer
        truncated.moveWriterIndex(to: buffer.writerIndex - 1)
        #expect(throws: FileSyncError.self) { try ChunkEntry.list(from: truncated) }
        for bad in [0, ProtocolLimits.maxChunkSize + 1] {
            var invalid = ByteBuffer()
            ChunkEntry(length: bad, hash: entries[0].hash).write(to: &invalid)
            #expect(throws: FileSyncError.self) { try ChunkEntry.list(from: invalid) }
        }
        var tooMany = ByteBuffer()
        for _ in 0...ProtocolLimits.maxChunksPerList { entries[0].write(to: &tooMany) }
        #expect(throws: FileSyncError.self) { try ChunkEntry.list(from: tooMany) }
    }

    @Test("CHUNK_NEED ranges round-trip and malformed ranges are refused")
    func needRanges() throws {
        let flags = [true, true, false, false, true, false, true]
        let need = ChunkNeed(needed: flags)
        #expect(need.ranges == [[0, 2], [4, 1], [6, 1]])
        #expect(try need.needed(count: flags.count) == flags)
        #expect(try ChunkNeed(needed: [false, false]).needed(count: 2) == [false, false])
        for ranges in [
            [[0, 2], [1, 1]], [[3, 1], [0, 1]], [[0, 8]], [[-1, 1]], [[0, 0]], [[1]], [[6, Int.max]],
        ] {
            #expect(throws: FileSyncError.self, "\(ranges)") { try ChunkNeed(ranges: ranges).needed(count: 7) }
        }
    }

    @Test("the chunk-list digest is SHA-256 over the 36-byte entries")
    func listDigest() {
        let entry = ChunkEntry(length: 5, hash: Array("hello".utf8).withUnsafeBytes { ChunkHash(of: $0) })
        var digest = ChunkListDigest()
        digest.add(entry)
        var buffer = ByteBuffer()
        entry.write(to: &buffer)
        let expected = buffer.withUnsafeReadableBytes { ChunkHash(of: $0) }
        #expect(digest.finalize() == expected.description)
        #expect(digest.length == 5 && digest.count == 1)
        #expect(
            entry.hash.description == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    }
}
