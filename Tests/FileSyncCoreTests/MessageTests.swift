import FileSyncCore
import Foundation
import NIOCore
import Testing

@Suite("Control messages")
struct MessageTests {
    static let samples: [Message] = [
        .hello(Hello(clientId: "laptop", capabilities: ["deflate"], mirrorDeletions: true, software: "test")),
        .ready(Ready(version: 1, serverId: "id", serverName: "nas", capabilities: [])),
        .queued(Queued(position: 2, keepaliveSeconds: 15)),
        .filesInfo(
            FilesInfo(
                entries: [ManifestEntry(path: "a/ü b.txt", type: .file, size: 3, mtimeNs: -5, mode: 0o644)], final: true
            )),
        .tasks(
            Tasks(
                tasks: [TransferTask(path: "a")],
                rejected: [FileResult(path: "b", error: ErrorMessage(code: "x", message: "y"))], final: false)),
        .fileHeader(FileHeader(path: "a", size: 10, mtimeNs: 1_700_000_000_123_456_789, mode: 0o600)),
        .fileEnd(FileEnd(sha256: String(repeating: "ab", count: 32))),
        .fileAbort(FileAbort(reason: "changed")),
        .fileAck(
            FileAck(files: [FileResult(path: "a"), FileResult(path: "b", error: ErrorMessage(code: "c", message: "d"))])
        ),
        .done(Done()),
        .nextSync(NextSync(afterSeconds: 900, stored: 1, failed: 0, deleted: 2, deletionsSkipped: nil)),
        .error(ErrorMessage(code: "invalidClientID", message: "no")),
    ]

    @Test("every message survives encoding and decoding", arguments: samples)
    func roundTrip(message: Message) throws {
        #expect(try Message(frame: message.frame()) == message)
    }

    @Test("the type field names the message")
    func typeField() throws {
        let frame = try Message.done(Done()).frame()
        let object = try JSONSerialization.jsonObject(with: Data(frame.payload.readableBytesView)) as? [String: Any]
        #expect(object?["type"] as? String == "DONE")
    }

    private func decode(_ json: String) throws -> Message {
        try Message(frame: Frame(kind: .control, payload: ByteBuffer(string: json)))
    }

    @Test("unknown fields are ignored so later versions can add some")
    func unknownFieldsIgnored() throws {
        let message = try decode(#"{"type":"QUEUED","position":3,"keepaliveSeconds":15,"future":{"x":1}}"#)
        #expect(message == .queued(Queued(position: 3, keepaliveSeconds: 15)))
    }

    @Test(
        "unknown types, missing fields, wrong types and non-JSON are malformed",
        arguments: [
            #"{"type":"NOPE"}"#, #"{"type":"QUEUED"}"#, #"{"type":"QUEUED","position":"x","keepaliveSeconds":1}"#,
            "\u{1}garbage", "[]", "",
        ])
    func malformed(json: String) {
        let error = #expect(throws: FileSyncError.self) { try decode(json) }
        #expect(error?.code == .malformedMessage)
    }

    @Test("a data frame where a message is expected is refused")
    func dataFrameIsNotAMessage() {
        let error = #expect(throws: FileSyncError.self) {
            try Message(frame: Frame(kind: .data, payload: ByteBuffer()))
        }
        #expect(error?.code == .unexpectedMessage)
    }
}

extension MessageTests {
    /// ERROR as a client built before `retryAfterSeconds` declares it.
    private struct OldError: Decodable, Equatable {
        var code: String
        var message: String
    }

    @Test("ERROR's retryAfterSeconds travels when set, is absent otherwise, and an older client still decodes ERROR")
    func retryAfterHint() throws {
        let hinted = Message.error(ErrorMessage(code: "queueFull", message: "try later", retryAfterSeconds: 30))
        let frame = try ControlMessageEncoder().frame(hinted)
        let json = String(buffer: frame.payload)
        #expect(json.contains(#""retryAfterSeconds":30"#), "\(json)")
        #expect(try MessageDecoder().decode(frame) == hinted)
        #expect(
            try JSONDecoder().decode(OldError.self, from: Data(json.utf8))
                == OldError(code: "queueFull", message: "try later"))

        let plain = String(
            buffer: try ControlMessageEncoder().frame(.error(ErrorMessage(code: "queueFull", message: "x"))).payload)
        #expect(!plain.contains("retryAfterSeconds"), "\(plain)")
        guard
            case .error(let decoded) = try MessageDecoder().decode(
                Frame(kind: .control, payload: ByteBuffer(string: plain)))
        else {
            Issue.record("not an ERROR")
            return
        }
        #expect(decoded.retryAfterSeconds == nil)
        // A file's failure in FILE_ACK carries no hint.
        let ack = String(
            buffer: try ControlMessageEncoder().frame(
                .fileAck(
                    FileAck(files: [FileResult(path: "a", error: ErrorMessage(code: "storageFailed", message: "disk"))])
                )
            ).payload)
        #expect(!ack.contains("retryAfterSeconds"))
    }

    @Test("a server's hint is held to 1 ... 600 seconds")
    func retryBounds() {
        #expect(FileSyncError(.queueFull, "x").retrying(after: 0).retryAfterSeconds == 1)
        #expect(FileSyncError(.queueFull, "x").retrying(after: 45).retryAfterSeconds == 45)
        #expect(ErrorMessage(FileSyncError(.serverBusy, "x").retrying(after: 9_999)).retryAfterSeconds == 600)
    }
}
