import FileSyncCore
import Foundation
import NIOCore
import Testing

@Suite("History messages (Protocol.md §11)") struct HistoryMessageTests {
    private func roundTrip(_ message: Message) throws -> Message {
        try MessageDecoder().decode(try ControlMessageEncoder().frame(message))
    }

    @Test("snapshots, restore, list, want and end decode to what was encoded")
    func roundTrips() throws {
        let description = SnapshotDescription(
            id: "20261201T090000Z-1a2b3c4d", time: 1_764_579_600, files: 2, bytes: 12, added: 3, changed: 0,
            deleted: 0, protected: "before a run that changed most files")
        let messages: [Message] = [
            .snapshots(Snapshots(snapshots: [description], final: true)),
            .restore(Restore(at: 1_764_579_600, paths: ["docs"])),
            .restoreList(
                RestoreList(
                    snapshot: description,
                    entries: [
                        RestoreEntry(path: "docs", type: "dir", size: 0, mtimeNs: 5, mode: 0o755),
                        RestoreEntry(
                            path: "docs/a", type: "file", size: 3, mtimeNs: 7, mode: 0o644, sha256: "ab",
                            chunks: [RestoreChunk(length: 3, sha256: "ab")]),
                    ], final: false)),
            .restoreWant(
                RestoreWant(
                    files: [.init(entry: 1), .init(entry: 4, offset: 9), .init(entry: 7, chunks: [3])], final: true)),
            .restoreEnd(RestoreEnd(files: 2, bytes: 10, failed: 1)),
        ]
        for message in messages { #expect(try roundTrip(message) == message) }
    }

    @Test("a chunk travels as [length, hash], and a HELLO without session decodes as a backup")
    func wireForms() throws {
        let data = try JSONEncoder().encode(RestoreChunk(length: 5, sha256: "cd"))
        #expect(String(decoding: data, as: UTF8.self) == #"[5,"cd"]"#)
        let hello = try MessageDecoder().decode(
            Frame(
                kind: .control,
                payload: .init(
                    string:
                        #"{"type":"HELLO","version":1,"minVersion":1,"clientId":"a","capabilities":[],"mirrorDeletions":false}"#
                )))
        guard case .hello(let body) = hello else {
            Issue.record("not a HELLO")
            return
        }
        #expect(body.session == nil)
    }
}

extension HistoryMessageTests {
    /// A snapshot description as a client built before `failed` existed declares it.
    private struct OldDescription: Decodable, Equatable {
        var id: String
        var time: Int64
        var files: Int
        var bytes: Int64
        var added: Int
        var changed: Int
        var deleted: Int
        var protected: String?
    }

    private struct OldSnapshots: Decodable {
        var snapshots: [OldDescription]
        var final: Bool
    }

    @Test("a partial snapshot's failed count travels; a client built before it still decodes the list")
    func partialSnapshot() throws {
        let partial = SnapshotDescription(
            id: "20261201T090000Z-1a2b3c4d", time: 1_764_579_600, files: 2, bytes: 12, added: 3, changed: 0,
            deleted: 0, failed: 4)
        let message = Message.snapshots(Snapshots(snapshots: [partial], final: true))
        let frame = try ControlMessageEncoder().frame(message)
        #expect(try MessageDecoder().decode(frame) == message)
        let json = String(buffer: frame.payload)
        #expect(json.contains(#""failed":4"#), "\(json)")

        let old = try JSONDecoder().decode(OldSnapshots.self, from: Data(json.utf8))
        #expect(
            old.snapshots == [
                OldDescription(
                    id: partial.id, time: partial.time, files: 2, bytes: 12, added: 3, changed: 0, deleted: 0)
            ])
        #expect(old.final)

        // A complete snapshot carries no failed field, as every snapshot did before.
        var complete = partial
        complete.failed = nil
        let completeJSON = String(
            buffer: try ControlMessageEncoder().frame(.snapshots(Snapshots(snapshots: [complete], final: true))).payload
        )
        #expect(!completeJSON.contains("failed"), "\(completeJSON)")
    }
}
