import NIOCore
import TestSupport
import Testing

@testable import FileSyncCore

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

extension ChunkingTests {
    /// The input of the chunker's test vector (Protocol.md §5.7): 3,000,000 bytes, byte n the top
    /// 8 bits of x(n+1), x(0) = 0, x(k+1) = x(k) × 6364136223846793005 + 1442695040888963407 mod 2^64,
    /// for n < 2,000,000; zeros after.
    static func vectorInput() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 3_000_000)
        var x: UInt64 = 0
        for index in 0..<2_000_000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = UInt8(x >> 56)
        }
        return bytes
    }

    @Test("the v1 chunker (chunkerV1) has the parameters, gear table and cut points of the vector in Protocol.md §5.7")
    func chunkerV1Vector() {
        let cutter = ChunkCutter.standard
        #expect((cutter.minSize, cutter.averageSize, cutter.maxSize) == (65_536, 131_072, 524_288))
        #expect(ChunkCutter.gear.count == 256)
        #expect(ChunkCutter.gear[0] == 0x12bb_6f59_8cbb_8d20)
        #expect(ChunkCutter.gear[1] == 0x104a_27fa_01cb_59cb)
        #expect(ChunkCutter.gear[255] == 0x85d6_cbca_9216_0ce8)
        let input = Self.vectorInput()
        #expect(
            input.withUnsafeBytes { ChunkHash(of: $0) }.description
                == "bc904628e89440c65cb5061a635dc18fdc17ccdf532de8de19b570c80931d7ab")
        #expect(
            Self.lengths(input) == [
                143_256, 150_173, 146_084, 109_360, 258_677, 78_945, 132_828, 106_957, 213_848, 204_133, 141_846,
                90_619, 148_676, 524_288, 524_288, 26_022,
            ])
    }

    /// FastCDC's cut as the spec words it (Protocol.md §5.7), one byte at a time: what the C scan,
    /// which rolls two bytes per step, must match exactly.
    static func referenceCut(_ bytes: ArraySlice<UInt8>, _ cutter: ChunkCutter) -> Int {
        guard bytes.count > cutter.minSize else { return bytes.count }
        let count = min(bytes.count, cutter.maxSize)
        let bits = UInt64(cutter.averageSize.trailingZeroBitCount)
        let (small, large) = (~UInt64(0) << (64 - (bits + 2)), ~UInt64(0) << (64 - (bits - 2)))
        var hash: UInt64 = 0
        for index in cutter.minSize..<count {
            hash = (hash << 1) &+ ChunkCutter.gear[Int(bytes[bytes.startIndex + index])]
            if hash & (index < cutter.averageSize ? small : large) == 0 { return index + 1 }
        }
        return count
    }

    @Test(
        "the two-bytes-per-step scan cuts exactly where a byte-by-byte scan does, at odd and even offsets",
        arguments: [ChunkCutter(minSize: 64, averageSize: 256, maxSize: 1024), .standard])
    func scanMatchesReference(cutter: ChunkCutter) {
        let bytes = TestData.random(min(cutter.maxSize * 200, 12 << 20), seed: 12)
        var (offset, odd, even, forced) = (0, 0, 0, 0)
        while offset < bytes.count {
            // Every length of input from one chunk start, ending both inside and past the cut.
            let reference = Self.referenceCut(bytes[offset...], cutter)
            let cut = bytes[offset...].withUnsafeBytes { cutter.cut($0) }
            #expect(cut == reference, "at \(offset)")
            for shorter in [reference - 1, reference, reference + 1]
            where shorter > 0 && offset + shorter <= bytes.count {
                let slice = bytes[offset..<offset + shorter]
                #expect(slice.withUnsafeBytes { cutter.cut($0) } == Self.referenceCut(slice, cutter))
            }
            if cut == cutter.maxSize { forced += 1 } else if cut % 2 == 0 { even += 1 } else { odd += 1 }
            offset += cut
        }
        #expect(odd > 10 && even > 10, "cuts at odd \(odd) and even \(even) offsets")
    }
}
