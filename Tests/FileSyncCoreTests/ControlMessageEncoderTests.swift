import FileSyncCore
import NIOCore
import Testing

@Suite("Control message encoder") struct ControlMessageEncoderTests {
    private static func longPath(_ index: Int) -> String {
        // Control characters are escaped as \u00XX in JSON: six bytes on the wire for each.
        String(repeating: "\u{1}", count: 3_990) + String(index)
    }

    @Test("a FILE_ACK for 8,192 files with long paths exceeds 16 MiB and is split into frames within the limit")
    func splitsLargeAck() throws {
        let files = (0..<8_192).map { FileResult(path: Self.longPath($0)) }
        let encoder = ControlMessageEncoder()
        #expect(throws: FileSyncError.self) { try encoder.frame(.fileAck(FileAck(files: files))) }
        let frames = try encoder.frames(.fileAck(FileAck(files: files)))
        #expect(frames.count > 1)
        var decoded: [FileResult] = []
        for frame in frames {
            #expect(frame.payload.readableBytes <= ProtocolLimits.maxControlPayload)
            guard case .fileAck(let ack) = try MessageDecoder().decode(frame) else {
                Issue.record("not a FILE_ACK")
                return
            }
            decoded += ack.files
        }
        #expect(decoded == files)
    }

    @Test("a message that fits is one frame; a message over the limit other than FILE_ACK is refused")
    func limit() throws {
        let encoder = ControlMessageEncoder(maxPayload: 64)
        #expect(try encoder.frames(.done(Done())).count == 1)
        let error = #expect(throws: FileSyncError.self) {
            try encoder.frames(.error(ErrorMessage(code: "x", message: String(repeating: "a", count: 100))))
        }
        #expect(error?.code == .limitExceeded)
    }
}
