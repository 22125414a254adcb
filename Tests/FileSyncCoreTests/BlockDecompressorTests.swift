import FileSyncCore
import NIOCore
import TestSupport
import Testing

/// The codec rule of compressed frames on its own, for the compression cases of the hostile corpus
/// (Tests/EndToEndTests/HostileCorpusTests.swift): a block compressed with a codec the session
/// did not negotiate is refused before anything is decoded.
@Suite("Block decompressor") struct BlockDecompressorTests {
    static let input = TestData.text(8192)

    static func compressed(_ flag: Frame.Flags) throws -> ByteBuffer {
        let compressor: BlockCompressor =
            flag == .zstd ? .zstd(try ZstdCompressor(level: 1)) : .zlib(try Deflater(level: 1))
        var output = ByteBuffer()
        #expect(input.withUnsafeBytes { compressor.compress($0, into: &output) })
        return output
    }

    @Test(
        "a block of a codec that was not negotiated is malformedFrame, and nothing is decoded",
        arguments: [
            (Frame.Flags.deflated, Frame.Flags()), (.deflated, .zstd), (.zstd, Frame.Flags()), (.zstd, .deflated),
        ])
    func codecNotNegotiated(flag: Frame.Flags, allowed: Frame.Flags) throws {
        let block = try Self.compressed(flag)
        var output = ByteBuffer(bytes: [9, 9])
        #expect {
            try BlockDecompressor(allowed: allowed).decompress(
                block, flags: flag, into: &output, maxOutput: ProtocolLimits.maxDataPayload)
        } throws: { error in
            (error as? FileSyncError)?.code == .malformedFrame
        }
        #expect(output.readableBytes == 0, "the output was cleared and nothing written to it")
    }

    @Test("a block of a negotiated codec is decoded", arguments: [Frame.Flags.deflated, .zstd])
    func codecNegotiated(flag: Frame.Flags) throws {
        let block = try Self.compressed(flag)
        var output = ByteBuffer()
        try BlockDecompressor(allowed: [.deflated, .zstd]).decompress(
            block, flags: flag, into: &output, maxOutput: ProtocolLimits.maxDataPayload)
        #expect(Array(output.readableBytesView) == Self.input)
    }

    @Test("only the two codec flags mark a compressed block")
    func compressedFlags() {
        #expect(BlockDecompressor.isCompressed(.deflated) && BlockDecompressor.isCompressed(.zstd))
        #expect(!BlockDecompressor.isCompressed([]))
    }
}
