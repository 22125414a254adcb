import FileSyncCore
import Testing

@testable import FileSyncClient

@Suite("Send state machine, binary tasks")
struct SendStateMachineTests {
    typealias Action = SendStateMachine.Action

    private func task(_ path: String, _ kind: TransferTask.Kind = .full) -> TransferTask {
        TransferTask(path: path, kind: kind)
    }

    @Test("the task list is awaited first; the files of a final part go in order, then DONE")
    func oneFinalPart() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: .all)
        #expect(machine.start() == [.awaitTasks])
        let part = BinaryTasks.Part(
            runs: [BinaryTasks.Run(first: 1, count: 2, kind: .full), BinaryTasks.Run(first: 4, kind: .full)],
            rejected: [BinaryTasks.Rejection(entry: 3, message: "the server holds a folder here")], final: true)
        #expect(try machine.handle(.tasksArrived(.binary(part))) == [.sendFile(entry: 1, task: task("docs/a.txt"))])
        #expect(try machine.handle(.fileFinished(.sent)) == [.sendFile(entry: 2, task: task("docs/b.txt"))])
        #expect(try machine.handle(.fileFinished(.skipped("vanished"))) == [.sendFile(entry: 4, task: task("c.bin"))])
        // Five files: three asked for, one rejected, one unchanged.
        #expect(try machine.handle(.fileFinished(.sent)) == [.sendDone(unchanged: 1)])
        #expect(machine.isDone)
        #expect(machine.sent.entries == [1, 4])
        #expect(machine.failed == ["docs/b.txt": "vanished", "pics": "the server holds a folder here"])
    }

    @Test("with tasksPerPart the files of a part go before the final part; DONE waits for it")
    func partByPart() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: .all)
        let first = BinaryTasks.Part(runs: [BinaryTasks.Run(first: 1, kind: .full)], final: false)
        #expect(try machine.handle(.tasksArrived(.binary(first))) == [.sendFile(entry: 1, task: task("docs/a.txt"))])
        #expect(try machine.handle(.fileFinished(.sent)) == [.awaitTasks])
        let last = BinaryTasks.Part(runs: [BinaryTasks.Run(first: 5, kind: .chunked)], final: true)
        #expect(
            try machine.handle(.tasksArrived(.binary(last))) == [.sendFile(entry: 5, task: task("d.bin", .chunked))])
        #expect(try machine.handle(.fileFinished(.sent)) == [.sendDone(unchanged: 3)])
    }

    @Test("a delta task waits for the final task part (Protocol.md §5.7), other kinds do not")
    func deltaWaitsForTheTaskList() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: .all)
        let first = BinaryTasks.Part(runs: [BinaryTasks.Run(first: 1, kind: .delta)], final: false)
        #expect(try machine.handle(.tasksArrived(.binary(first))) == [.awaitTasks])
        let middle = BinaryTasks.Part(runs: [BinaryTasks.Run(first: 2, kind: .full)], final: false)
        #expect(try machine.handle(.tasksArrived(.binary(middle))) == [.awaitTasks])
        let last = BinaryTasks.Part(runs: [], final: true)
        #expect(
            try machine.handle(.tasksArrived(.binary(last))) == [.sendFile(entry: 1, task: task("docs/a.txt", .delta))])
        #expect(DeltaOrdering.mayStart(.delta, taskListComplete: false) == false)
        #expect(DeltaOrdering.mayStart(.chunked, taskListComplete: false))
    }

    @Test("a delta round: chunk list, CHUNK_NEED awaited, then the chunks it flags")
    func deltaRound() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: .all)
        let part = BinaryTasks.Part(runs: [BinaryTasks.Run(first: 4, kind: .delta)], final: true)
        _ = try machine.handle(.tasksArrived(.binary(part)))
        #expect(try machine.handle(.chunkListSent(count: 3)) == [.awaitChunkNeed])
        let need = ChunkNeed(ranges: [[1, 1]])
        #expect(try machine.handle(.chunkNeedArrived(need)) == [.sendChunks(needed: [false, true, false])])
        #expect(try machine.handle(.chunkListSent(count: 1)) == [.awaitChunkNeed])
        #expect(try machine.handle(.chunkNeedArrived(ChunkNeed(ranges: []))) == [.sendChunks(needed: [false])])
        #expect(try machine.handle(.fileFinished(.sent)) == [.sendDone(unchanged: 4)])
    }

    @Test("a tasks frame or a bad range while CHUNK_NEED is awaited, or a CHUNK_NEED unasked, are errors")
    func strayAnswers() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: .all)
        let part = BinaryTasks.Part(runs: [BinaryTasks.Run(first: 4, kind: .delta)], final: true)
        _ = try machine.handle(.tasksArrived(.binary(part)))
        #expect(throws: FileSyncError.self) { try machine.handle(.chunkNeedArrived(ChunkNeed(ranges: []))) }
        _ = try machine.handle(.chunkListSent(count: 2))
        var copy = machine
        #expect(throws: FileSyncError.self) {
            try copy.handle(.tasksArrived(.binary(BinaryTasks.Part(runs: [], final: true))))
        }
        #expect(throws: FileSyncError.self) { try machine.handle(.chunkNeedArrived(ChunkNeed(ranges: [[1, 2]]))) }
    }

    @Test("the full tasks from the current one on, as far as the list has arrived, may be prepared ahead")
    func upcomingFullTasks() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: .all)
        #expect(machine.upcomingFullTasks(limit: 6).isEmpty)
        let first = BinaryTasks.Part(
            runs: [BinaryTasks.Run(first: 1, count: 2, kind: .full), BinaryTasks.Run(first: 4, kind: .full)],
            final: false)
        _ = try machine.handle(.tasksArrived(.binary(first)))
        #expect(machine.upcomingFullTasks(limit: 6) == [1, 2, 4])
        #expect(machine.upcomingFullTasks(limit: 2) == [1, 2])
        _ = try machine.handle(.fileFinished(.sent))
        #expect(machine.upcomingFullTasks(limit: 6) == [2, 4])
        _ = try machine.handle(.fileFinished(.sent))
        _ = try machine.handle(.fileFinished(.sent))
        // Waiting for the next part: nothing is being sent.
        #expect(machine.upcomingFullTasks(limit: 6).isEmpty)
        let last = BinaryTasks.Part(
            runs: [BinaryTasks.Run(first: 5, kind: .chunked)], final: true)
        _ = try machine.handle(.tasksArrived(.binary(last)))
        // A chunked file is sent by rounds of its own, never as one prepared frame.
        #expect(machine.upcomingFullTasks(limit: 6).isEmpty)
    }

    @Test("tasks of a kind not in force are refused")
    func kindNotOffered() throws {
        var machine = SendStateMachine(manifest: Fixtures.manifest, features: SessionFeatures.all.subtracting(.chunks))
        let part = BinaryTasks.Part(runs: [BinaryTasks.Run(first: 1, kind: .chunked)], final: true)
        #expect(throws: FileSyncError.self) { try machine.handle(.tasksArrived(.binary(part))) }
    }

    @Test("runs must ascend, lie in the manifest and name files only")
    func runsChecked() throws {
        let bad: [[BinaryTasks.Run]] = [
            [BinaryTasks.Run(first: 0, kind: .full)],
            [BinaryTasks.Run(first: 5, count: 2, kind: .full)],
            [BinaryTasks.Run(first: 2, kind: .full), BinaryTasks.Run(first: 1, kind: .full)],
        ]
        for runs in bad {
            var machine = SendStateMachine(manifest: Fixtures.manifest, features: .all)
            #expect(throws: FileSyncError.self) {
                try machine.handle(.tasksArrived(.binary(BinaryTasks.Part(runs: runs, final: true))))
            }
        }
    }

    @Test("a tasks frame without binaryTasks, and TASKS with it, are refused")
    func formMustMatchTheFeatures() {
        var json = SendStateMachine(manifest: Fixtures.manifest, features: Fixtures.jsonFeatures)
        #expect(throws: FileSyncError.self) {
            try json.handle(.tasksArrived(.binary(BinaryTasks.Part(runs: [], final: true))))
        }
        var binary = SendStateMachine(manifest: Fixtures.manifest, features: .all)
        #expect(throws: FileSyncError.self) { try binary.handle(.tasksArrived(.json(Tasks(tasks: [], final: true)))) }
    }
}
