import FileSyncCore
import NIOCore
import TestSupport
import Testing

@Suite("Zstd")
struct ZstdTests {
    private func compressed(_ input: [UInt8], level: Int = 1) throws -> ByteBuffer {
        var output = ByteBuffer()
        let shrank = try input.withUnsafeBytes { try ZstdCompressor(level: level).compress($0, into: &output) }
        #expect(shrank)
        return output
    }

    /// A zstd frame that declares no content size (window 128 KiB) holding `blocks`.
    private func sizelessFrame(_ blocks: [[UInt8]]) -> ByteBuffer {
        ByteBuffer(bytes: [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38] + blocks.joined())
    }

    /// A zstd block header: 3 little-endian bytes of last flag, type (0 raw, 1 RLE) and size.
    private func blockHeader(last: Bool, type: UInt32, size: UInt32) -> [UInt8] {
        let value = (last ? 1 : 0) | type << 1 | size << 3
        return [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF)]
    }

    @Test("compressible blocks shrink and round-trip exactly", arguments: [100, 4096, 256 * 1024, 1 << 20])
    func roundTrip(size: Int) throws {
        let input = TestData.text(size)
        for level in [1, 3] {
            let frame = try compressed(input, level: level)
            #expect(frame.readableBytes < input.count)
            var output = ByteBuffer()
            try ZstdDecompressor().decompress(frame, into: &output, maxOutput: ProtocolLimits.maxDataPayload)
            #expect(Array(output.readableBytesView) == input)
        }
    }

    @Test("random data with a compressible half round-trips")
    func mixed() throws {
        let input = TestData.random(32 * 1024, seed: 3) + TestData.text(32 * 1024)
        let frame = try compressed(input)
        var output = ByteBuffer()
        try ZstdDecompressor().decompress(frame, into: &output, maxOutput: input.count)
        #expect(Array(output.readableBytesView) == input)
    }

    @Test("one compressor and decompressor serve many blocks in turn, appending to the output")
    func reuse() throws {
        let compressor = try ZstdCompressor(level: 2)
        let decompressor = try ZstdDecompressor()
        var output = ByteBuffer(bytes: [9, 9])
        var expected: [UInt8] = [9, 9]
        for size in [5000, 300, 100_000, 5000] {
            let input = TestData.text(size)
            var frame = ByteBuffer()
            #expect(input.withUnsafeBytes { compressor.compress($0, into: &frame) })
            try decompressor.decompress(frame, into: &output, maxOutput: size)
            expected += input
        }
        #expect(Array(output.readableBytesView) == expected)
    }

    @Test("random data does not shrink and leaves the output unchanged")
    func incompressible() throws {
        let compressor = try ZstdCompressor(level: 19)
        var output = ByteBuffer(bytes: [1, 2, 3])
        #expect(!TestData.random(64 * 1024, seed: 7).withUnsafeBytes { compressor.compress($0, into: &output) })
        #expect(!TestData.text(16).withUnsafeBytes { compressor.compress($0, into: &output) })
        #expect(Array(output.readableBytesView) == [1, 2, 3])
        // The context is still good for the next block.
        #expect(TestData.text(4096).withUnsafeBytes { compressor.compress($0, into: &output) })
    }

    @Test("levels are clamped to what zstd supports")
    func levels() throws {
        #expect(try ZstdCompressor(level: 0).level == 1)
        #expect(try ZstdCompressor(level: 3).level == 3)
        #expect(try ZstdCompressor(level: 1000).level >= 19)
    }

    @Test("a frame declaring more than the bound is refused before decoding")
    func declaredBomb() throws {
        let frame = try compressed([UInt8](repeating: 0, count: 1 << 20), level: 19)
        var output = ByteBuffer()
        let error = #expect(throws: FileSyncError.self) {
            try ZstdDecompressor().decompress(frame, into: &output, maxOutput: (1 << 20) - 1)
        }
        #expect(error?.code == .decompressionFailed)
        #expect(error?.message.contains("declares \(1 << 20)") == true)
        #expect(output.readableBytes == 0)
        try ZstdDecompressor().decompress(frame, into: &output, maxOutput: 1 << 20)
        #expect(output.readableBytes == 1 << 20)
    }

    @Test("a frame with no declared size is bounded while it streams")
    func sizelessBomb() throws {
        let rle = blockHeader(last: false, type: 1, size: 128 * 1024) + [0x41]
        let bomb = sizelessFrame(Array(repeating: rle, count: 7) + [blockHeader(last: true, type: 1, size: 1) + [0x41]])
        let decompressor = try ZstdDecompressor()
        var output = ByteBuffer()
        for bound in [1000, 200_000, 7 * 128 * 1024] {
            let error = #expect(throws: FileSyncError.self) {
                try decompressor.decompress(bomb, into: &output, maxOutput: bound)
            }
            #expect(error?.code == .decompressionFailed)
            #expect(error?.message == "compressed block expands beyond \(bound) bytes")
            #expect(output.readableBytes == 0)
        }
        try decompressor.decompress(bomb, into: &output, maxOutput: 7 * 128 * 1024 + 1)
        #expect(Array(output.readableBytesView) == [UInt8](repeating: 0x41, count: 7 * 128 * 1024 + 1))

        let hello = Array("hello, zstd".utf8)
        var small = ByteBuffer()
        let raw = sizelessFrame([blockHeader(last: true, type: 0, size: UInt32(hello.count)) + hello])
        try decompressor.decompress(raw, into: &small, maxOutput: 100)
        #expect(Array(small.readableBytesView) == hello)
    }

    @Test("a frame whose declared size is wrong is refused", arguments: [4000, 4999, 5001, 6000])
    func lyingHeader(declared: Int) throws {
        var frame = try compressed(TestData.text(5000))
        // Single-segment frame with a 2-byte content size field (value - 256) after the descriptor.
        #expect(frame.getInteger(at: 4, as: UInt8.self) == 0x60)
        frame.setInteger(UInt16(declared - 256), at: 5, endianness: .little)
        var output = ByteBuffer()
        let error = #expect(throws: FileSyncError.self) {
            try ZstdDecompressor().decompress(frame, into: &output, maxOutput: 10_000)
        }
        #expect(error?.code == .decompressionFailed)
        #expect(output.readableBytes == 0)
    }

    @Test("truncated, corrupt and non-zstd input is refused")
    func corrupt() throws {
        let frame = try compressed(TestData.text(5000))
        let decompressor = try ZstdDecompressor()
        var output = ByteBuffer()
        // The frames carry no checksum (each file is SHA-256 checked), so damage the structure:
        // the first block header (after magic, descriptor and 2-byte size) gets the reserved type.
        var garbage = frame
        garbage.setInteger(frame.getInteger(at: 7, as: UInt8.self)! | 0x06, at: 7)
        let skippable = ByteBuffer(bytes: [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4])
        let inputs = [
            frame.getSlice(at: 0, length: frame.readableBytes - 1)!,
            frame.getSlice(at: 0, length: 8)!,
            frame.getSlice(at: 0, length: 3)!,
            ByteBuffer(),
            garbage,
            ByteBuffer(bytes: [0x78, 0x01, 0xFF, 0xFF, 0xFF]),
            ByteBuffer(bytes: TestData.random(1000, seed: 11)),
            skippable,
        ]
        for input in inputs {
            let error = #expect(throws: FileSyncError.self) {
                try decompressor.decompress(input, into: &output, maxOutput: 10_000)
            }
            #expect(error?.code == .decompressionFailed)
        }
        #expect(output.readableBytes == 0)
        // Failures leave the context ready for the next block.
        try decompressor.decompress(frame, into: &output, maxOutput: 5000)
        #expect(Array(output.readableBytesView) == TestData.text(5000))
    }

    @Test("bytes after the frame are refused, including a second frame")
    func trailing() throws {
        let frame = try compressed(TestData.text(5000))
        var output = ByteBuffer()
        for tail in [[0], [1, 2, 3], Array(frame.readableBytesView)] as [[UInt8]] {
            var input = frame
            input.writeBytes(tail)
            let error = #expect(throws: FileSyncError.self) {
                try ZstdDecompressor().decompress(input, into: &output, maxOutput: 20_000)
            }
            #expect(error?.code == .decompressionFailed)
        }
        #expect(output.readableBytes == 0)
    }
}
