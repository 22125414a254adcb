import FileSyncCore
import Testing

@testable import FileSyncClient

/// The minimal-client path of the spec: a server without `binaryTasks` sends `TASKS` messages that
/// name paths, and `FILE_ACK` messages.
@Suite("JSON tasks and FILE_ACK")
struct JSONTasksTests {
    @Test("TASKS parts name paths, looked up once the final part has arrived; rejections are failures")
    func namedTasks() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: Fixtures.jsonFeatures)
        let first = Tasks(
            tasks: [TransferTask(path: "c.bin")],
            rejected: [FileResult(path: "pics", error: ErrorMessage(code: "typeConflict", message: "a folder"))],
            final: false)
        // Nothing can start before the final part: the paths are not yet resolved.
        #expect(try machine.handle(.tasksArrived(.json(first))) == [.awaitTasks])
        let resume = TransferTask(
            path: "docs/a.txt", kind: .resume, offset: 3, prefixSha256: String(repeating: "a", count: 64))
        let last = Tasks(tasks: [resume], final: true)
        #expect(
            try machine.handle(.tasksArrived(.json(last))) == [.sendFile(entry: 4, task: TransferTask(path: "c.bin"))])
        #expect(try machine.handle(.fileFinished(.sent)) == [.sendFile(entry: 1, task: resume)])
        #expect(try machine.handle(.fileFinished(.sent)) == [.sendDone(unchanged: 2)])
        #expect(machine.failed == ["pics": "a folder"])
    }

    @Test("a TASKS path not offered as a file, or named twice, is a protocol error")
    func unknownPaths() {
        for tasks in [
            [TransferTask(path: "nowhere")], [TransferTask(path: "docs")],
            [TransferTask(path: "c.bin"), TransferTask(path: "c.bin")],
        ] {
            var machine = SendStateMachine(manifest: Fixtures.manifest, features: Fixtures.jsonFeatures)
            #expect(throws: FileSyncError.self) {
                try machine.handle(.tasksArrived(.json(Tasks(tasks: tasks, final: true))))
            }
        }
    }

    @Test("FILE_ACK results: stored by path, failures with their message, an earlier reason kept")
    func fileAcks() throws {
        let runs = [BinaryTasks.Run(first: 1, kind: .full), BinaryTasks.Run(first: 4, kind: .full)]
        let acks = Acknowledgements()
        acks.record([FileResult(path: "docs/a.txt")])
        acks.record([
            FileResult(path: "c.bin", error: ErrorMessage(code: "checksumMismatch", message: "SHA-256 mismatch")),
            FileResult(path: "pics", error: ErrorMessage(code: "storageFailed", message: "later")),
            FileResult(path: "unasked"),
        ])
        var tally = AckTally(manifest: Fixtures.manifest, failed: ["pics": "rejected"])
        try acks.tally(into: &tally, binary: false, tasks: runs)
        #expect(tally.stored.entries == [1])
        #expect(tally.failed == ["c.bin": "SHA-256 mismatch", "pics": "rejected"])
    }

    @Test("an ack frame without binaryTasks is a protocol error")
    func ackFrameWithoutBinaryTasks() {
        let acks = Acknowledgements()
        acks.record(BinaryAcks.Ack(stored: [1..<2]))
        var tally = AckTally(manifest: Fixtures.manifest)
        #expect(throws: FileSyncError.self) { try acks.tally(into: &tally, binary: false, tasks: []) }
    }

    @Test("ack frames: stored runs and failures by entry; entries outside the manifest are refused")
    func ackFrames() throws {
        var tally = AckTally(manifest: Fixtures.manifest)
        try tally.record([
            BinaryAcks.Ack(
                stored: [1..<3], failed: [BinaryAcks.Failure(entry: 4, error: ErrorMessage(code: "x", message: "lost"))]
            )
        ])
        #expect(tally.stored.entries == [1, 2])
        #expect(tally.failed == ["c.bin": "lost"])
        #expect(throws: FileSyncError.self) { try tally.record([BinaryAcks.Ack(stored: [5..<7])]) }
    }
}
