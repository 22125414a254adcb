import FileSyncCore
import Foundation
import NIOCore
import Testing

extension EndToEnd.HostileSessionTests {
    @Test(
        "a file frame that inflates past its declared size (zlib, zstd) is refused at that size; nothing is stored",
        arguments: [Capability.deflate, Capability.zstd])
    func decompressionBomb(codec: String) throws {
        let setup = try Setup("bomb-\(codec)")
        let declared: Int64 = 4096
        let raw = try RawConnection(port: setup.server.port)
        try EndToEnd.HostileCorpusTests.start(
            raw, setup.server, setup.work, [EndToEnd.HostileCorpusTests.entry("bomb", size: declared)], id: "bomb",
            capabilities: [Capability.fileFrames, codec])
        // 1 MiB of zeros compresses to about a kilobyte: 256 times the size the header declares.
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let compressor: BlockCompressor =
            codec == Capability.zstd ? .zstd(try ZstdCompressor(level: 1)) : .zlib(try Deflater(level: 1))
        var compressed = ByteBuffer()
        try #require(zeros.withUnsafeBytes { compressor.compress($0, into: &compressed) })
        #expect(compressed.readableBytes < 8192)
        let sha256 = zeros.prefix(Int(declared)).withUnsafeBytes { ChunkHash(of: $0) }
        try raw.sendWholeFile(
            "bomb", Array(compressed.readableBytesView), size: declared, sha256: sha256, flags: compressor.flag)
        var answer = try raw.receive()
        while case .fileAck? = answer { answer = try raw.receive() }
        guard case .error(let error)? = answer else {
            throw TestFailure("no ERROR for the bomb: \(String(describing: answer))")
        }
        #expect(error.code == FileSyncError.Code.decompressionFailed.rawValue)
        #expect(error.message.contains("beyond 4096 bytes"), "\(error.message)")
        #expect(try raw.receive() == nil, "the server closes the session after its ERROR")
        #expect(!FileManager.default.fileExists(atPath: setup.root + "/bomb/bomb"))
        try setup.normalBackupSucceeds()
    }
}
