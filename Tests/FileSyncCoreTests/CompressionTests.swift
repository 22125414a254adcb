import FileSyncCore
import Foundation
import NIOCore
import TestSupport
import Testing

@Suite("Compression")
struct CompressionTests {
    @Test("compressible blocks shrink and round-trip exactly", arguments: [100, 4096, 256 * 1024])
    func roundTrip(size: Int) throws {
        let input = TestData.text(size)
        let deflater = try Deflater(level: 1)
        var compressed = ByteBuffer()
        let shrank = input.withUnsafeBytes { deflater.compress($0, into: &compressed) }
        #expect(shrank)
        #expect(compressed.readableBytes < input.count)
        var output = ByteBuffer()
        try Inflater().decompress(compressed, into: &output, maxOutput: ProtocolLimits.maxDataPayload)
        #expect(Array(output.readableBytesView) == input)
    }

    @Test("one deflater and inflater serve many blocks in turn")
    func reuse() throws {
        let deflater = try Deflater(level: 6)
        let inflater = try Inflater()
        for size in [5000, 70, 100_000, 5000] {
            let input = TestData.text(size)
            var compressed = ByteBuffer()
            #expect(input.withUnsafeBytes { deflater.compress($0, into: &compressed) })
            var output = ByteBuffer()
            try inflater.decompress(compressed, into: &output, maxOutput: size)
            #expect(Array(output.readableBytesView) == input)
        }
    }

    @Test("random data does not shrink and is left for sending stored")
    func incompressible() throws {
        let input = TestData.random(64 * 1024, seed: 7)
        var output = ByteBuffer()
        let shrank = input.withUnsafeBytes { try! Deflater(level: 9).compress($0, into: &output) }
        #expect(!shrank)
        #expect(output.readableBytes == 0)
        #expect(!input.withUnsafeBytes { Compressibility.isWorthTrying($0) })
        #expect(TestData.text(4096).withUnsafeBytes { Compressibility.isWorthTrying($0) })
    }

    @Test("a block is judged by slices spread over it, not by its start alone")
    func slicesSpreadOverTheBlock() {
        let text = TestData.text(64 * 1024)
        var randomStart = text
        randomStart.replaceSubrange(0..<4096, with: TestData.random(4096, seed: 3))
        #expect(randomStart.withUnsafeBytes { Compressibility.isWorthTrying($0) })
        var textStart = TestData.random(64 * 1024, seed: 4)
        textStart.replaceSubrange(0..<4096, with: text[0..<4096])
        #expect(!textStart.withUnsafeBytes { Compressibility.isWorthTrying($0) })
    }

    @Test(
        "the entropy estimate decides as the textbook formula does, around the 7.2-bit threshold",
        arguments: [32, 100, 140, 160, 180, 200, 256], [4096, 1025, 1024, 1001])
    func entropyThreshold(alphabet: Int, length: Int) {
        // Bytes drawn from `alphabet` values: log2(alphabet) bits, from 5 to 8 across the threshold;
        // a length that is no multiple of 4 checks the bytes counted after the last group of four.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(alphabet)
        let sample = (0..<length).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(Int(state >> 33) % alphabet)
        }
        // The textbook entropy of the bytes the estimate looks at: all of a short block, slices of
        // a longer one.
        let looked = Compressibility.sampleRanges(count: length).flatMap { sample[$0] }
        var counts = [Int](repeating: 0, count: 256)
        for byte in looked { counts[Int(byte)] += 1 }
        let entropy = counts.filter { $0 > 0 }.reduce(0.0) {
            let p = Double($1) / Double(looked.count)
            return $0 - p * log2(p)
        }
        #expect(sample.withUnsafeBytes { Compressibility.isWorthTrying($0) } == (entropy < 7.2))
    }

    @Test("a block that would expand past the bound is refused (no decompression bombs)")
    func bomb() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var compressed = ByteBuffer()
        #expect(zeros.withUnsafeBytes { try! Deflater(level: 9).compress($0, into: &compressed) })
        var output = ByteBuffer()
        let error = #expect(throws: FileSyncError.self) {
            try Inflater().decompress(compressed, into: &output, maxOutput: 1000)
        }
        #expect(error?.code == .decompressionFailed)
    }

    @Test("corrupt and trailing-garbage input is refused")
    func corrupt() throws {
        var compressed = ByteBuffer()
        _ = TestData.text(5000).withUnsafeBytes { try! Deflater(level: 1).compress($0, into: &compressed) }
        var trailing = compressed
        trailing.writeBytes([1, 2, 3])
        var output = ByteBuffer()
        #expect(throws: FileSyncError.self) { try Inflater().decompress(trailing, into: &output, maxOutput: 10000) }
        #expect(throws: FileSyncError.self) {
            try Inflater().decompress(
                ByteBuffer(bytes: [0x78, 0x01, 0xff, 0xff, 0xff]), into: &output, maxOutput: 10000)
        }
    }
}
