import FileSyncCore
import Testing

@testable import FileSyncServer

@Suite("Acknowledgements") struct AckEncoderTests {
    /// A 4,000-byte path whose JSON is longer still: every `/` is escaped as `\/`, and a quote and
    /// a backslash each cost two bytes.
    static func longPath(_ index: Int) -> String {
        let name = "\(index)\"\\"
        let body = String(repeating: "dir/", count: (4000 - name.utf8.count) / 4)
        return body + name + String(repeating: "x", count: 4000 - body.utf8.count - name.utf8.count)
    }

    @Test("a JSON FILE_ACK for 8,192 files with 4,000-byte paths goes out as several, each within 16 MiB")
    func largeJSONAckIsSplit() throws {
        let results = (0..<8192).map { index in
            index % 3 == 0
                ? FileResult(path: Self.longPath(index), error: ErrorMessage(code: "checksumMismatch", message: "no"))
                : FileResult(path: Self.longPath(index))
        }
        #expect(results.allSatisfy { $0.path.utf8.count == 4000 })
        let frames = try AckEncoder(entries: nil).frames(for: results)
        #expect(frames.count > 1)
        var received: [FileResult] = []
        for frame in frames {
            #expect(frame.kind == .control)
            #expect(frame.payload.readableBytes <= ProtocolLimits.maxControlPayload)
            guard case .fileAck(let ack) = try Message(frame: frame) else {
                Issue.record("a frame that is not a FILE_ACK")
                continue
            }
            received += ack.files
        }
        #expect(received == results)
    }

    @Test("a small JSON FILE_ACK stays one frame")
    func smallJSONAckIsOneFrame() throws {
        let results = [FileResult(path: "a"), FileResult(path: "b")]
        let frames = try AckEncoder(entries: nil).frames(for: results)
        #expect(frames.count == 1)
        guard case .fileAck(let ack) = try Message(frame: frames[0]) else {
            Issue.record("not a FILE_ACK")
            return
        }
        #expect(ack.files == results)
    }
}
