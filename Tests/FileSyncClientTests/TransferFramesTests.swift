import FileSyncCore
import NIOCore
import Testing

@testable import FileSyncClient

@Suite("Transfer frames")
struct TransferFramesTests {
    private let entry = ManifestEntry(path: "a.txt", type: .file, size: 4096, mtimeNs: 7, mode: 0o644)

    @Test("HELLO lists the capabilities in the order it always has")
    func helloOrder() {
        #expect(
            ClientSession.helloCapabilities(.all) == [
                "zstd", "deflate", "resume", "chunks", "chunkerV1", "binaryManifest", "fileFrames", "binaryTasks",
                "tasksPerPart", "metadata", "xattrs", "specials",
                "hardlinks",
            ])
        #expect(ClientSession.helloCapabilities([.chunks, .deflate]) == ["deflate", "chunks"])
    }

    @Test("compressible data is deflated; a first block that does not compress turns compression off")
    func compressionTrial() throws {
        let frames = TransferFrames(compressor: .zlib(try Deflater(level: 1)))
        var trial = TransferFrames.CompressionTrial(compressor: frames.compressor)
        let zeros = ByteBuffer(repeating: 0, count: 4096)
        let deflated = frames.data(zeros, trial: &trial)
        #expect(deflated.flags == .deflated)
        #expect(deflated.payload.readableBytes < 4096)

        var random = SystemRandomNumberGenerator()
        let noise = ByteBuffer(bytes: (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) })
        var fresh = TransferFrames.CompressionTrial(compressor: frames.compressor)
        #expect(frames.data(noise, trial: &fresh) == Frame(kind: .data, payload: noise))
        // Off for the rest of the file, even for data that would compress.
        #expect(frames.data(zeros, trial: &fresh) == Frame(kind: .data, payload: zeros))
    }

    @Test("a chunk frame is the chunk's hash then its content; a chunk list is its entries")
    func chunkFrames() {
        let frames = TransferFrames(compressor: nil)
        var trial = TransferFrames.CompressionTrial(compressor: nil)
        let content: [UInt8] = Array(repeating: 1, count: 100)
        let (frame, hash) = content.withUnsafeBytes { bytes in
            let hash = ChunkHash(of: bytes)
            return (frames.chunk(hash, bytes, trial: &trial), hash)
        }
        var expected = ByteBuffer()
        hash.write(to: &expected)
        expected.writeBytes(content)
        #expect(frame == Frame(kind: .chunk, payload: expected))
        let list = TransferFrames.chunkList([ChunkEntry(length: 100, hash: hash)])
        #expect(list.kind == .chunkList)
        #expect(list.payload.readableBytes == 36)
    }

    @Test("control frames are the messages of the file, through ControlMessageEncoder")
    func controlFrames() throws {
        let frames = TransferFrames(compressor: nil)
        let header = try frames.header(entry, transfer: .delta)
        #expect(header.kind == .control)
        // JSONEncoder does not promise an order of keys: the frames are compared as messages.
        #expect(
            try MessageDecoder().decode(header)
                == .fileHeader(FileHeader(path: "a.txt", size: 4096, mtimeNs: 7, mode: 0o644, transfer: .delta)))
        #expect(try MessageDecoder().decode(frames.end(sha256: "ab")) == .fileEnd(FileEnd(sha256: "ab")))
    }
}
