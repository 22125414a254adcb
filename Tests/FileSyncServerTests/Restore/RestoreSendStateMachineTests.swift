import FileSyncCore
import FileSyncServer
import Testing

@Suite("Restore send state machine")
struct RestoreSendStateMachineTests {
    static let snapshots = [
        MemorySnapshotSource.description(id: "20261201T090000Z-00000001", time: 1000),
        MemorySnapshotSource.description(id: "20261201T100000Z-00000002", time: 2000),
        MemorySnapshotSource.description(id: "20261201T110000Z-00000003", time: 3000),
    ]

    static func file(_ path: String, size: Int64, chunks: Int = 0) -> SnapshotEntry {
        let hash = [UInt8](repeating: 7, count: 32).withUnsafeBytes { ChunkHash(bytes: $0)! }
        let each = chunks > 0 ? Int(size) / chunks : 0
        return SnapshotEntry(
            path: path, kind: .file, size: size, mtimeNs: 1, mode: 0o644, sha256: String(repeating: "a", count: 64),
            chunks: (0..<chunks).map { _ in ChunkEntry(length: each, hash: hash) })
    }

    /// A machine that has listed `entries` and waits for `RESTORE_WANT`.
    static func listed(_ entries: [SnapshotEntry]) throws -> RestoreSendStateMachine {
        var machine = RestoreSendStateMachine(snapshots: snapshots)
        _ = try machine.handle(.restore(Restore()))
        _ = try machine.handle(.entries(entries))
        return machine
    }

    static let tree = [
        SnapshotEntry(path: "docs", kind: .directory, size: 0, mtimeNs: 1, mode: 0o755),
        file("docs/a", size: 10), file("big", size: 4 << 20, chunks: 4), file("small", size: 100),
    ]

    func code(_ body: () throws -> Void) -> FileSyncError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? FileSyncError)?.code
        }
    }

    @Test("RESTORE: both a snapshot and a time, too many paths, an invalid path are refused")
    func restoreRefusals() {
        var machine = RestoreSendStateMachine(snapshots: Self.snapshots)
        #expect(code { _ = try machine.handle(.restore(Restore(snapshot: "x", at: 5))) } == .malformedMessage)
        let many = (0...Restore.maxPaths).map { "f\($0)" }
        #expect(code { _ = try machine.handle(.restore(Restore(paths: many))) } == .limitExceeded)
        #expect(code { _ = try machine.handle(.restore(Restore(paths: ["a/../b"]))) } == .invalidPath)
        #expect(code { _ = try machine.handle(.restore(Restore(paths: ["/etc"]))) } == .invalidPath)
    }

    @Test("the snapshot: newest by default, by id, newest at or before a time, else notFound")
    func choice() throws {
        func chosen(_ request: Restore, _ list: [SnapshotDescription] = Self.snapshots) throws -> String {
            var machine = RestoreSendStateMachine(snapshots: list)
            guard case .loadEntries(let id, _) = try machine.handle(.restore(request)).first else { return "" }
            return id
        }
        #expect(try chosen(Restore()) == "20261201T110000Z-00000003")
        #expect(try chosen(Restore(snapshot: "20261201T090000Z-00000001")) == "20261201T090000Z-00000001")
        #expect(try chosen(Restore(at: 2999)) == "20261201T100000Z-00000002")
        #expect(try chosen(Restore(at: 2000)) == "20261201T100000Z-00000002")
        #expect(code { _ = try chosen(Restore(at: 999)) } == .notFound)
        // The time is named as a time, not as Unix seconds.
        #expect(throws: FileSyncError.self) {
            do {
                _ = try chosen(Restore(at: 999))
            } catch let error as FileSyncError {
                #expect(error.message.contains("at or before 1970-01-01T00:16:39Z"), "\(error.message)")
                throw error
            }
        }
        #expect(code { _ = try chosen(Restore(snapshot: "nope")) } == .notFound)
        #expect(code { _ = try chosen(Restore(), []) } == .notFound)
    }

    @Test("a requested path the snapshot lacks is notFound")
    func missingPath() throws {
        var machine = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try machine.handle(.restore(Restore(paths: ["docs", "gone"])))
        #expect(code { _ = try machine.handle(.entries(Self.tree)) } == .notFound)
    }

    @Test("RESTORE_LIST: parts of at most 10,000 entries, within the byte budget, final on the last only")
    func parts() throws {
        var machine = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try machine.handle(.restore(Restore()))
        let entries = (0..<25_000).map { Self.file("f\($0)", size: 1) }
        let lists = try machine.handle(.entries(entries)).compactMap { action -> RestoreList? in
            guard case .send(.restoreList(let list)) = action else { return nil }
            return list
        }
        #expect(lists.map(\.entries.count) == [10_000, 10_000, 5_000])
        #expect(lists.map(\.final) == [false, false, true])
        #expect(lists.flatMap(\.entries).map(\.path) == entries.map(\.path))

        var small = RestoreSendStateMachine(snapshots: Self.snapshots, maxPartBytes: 100_000)
        _ = try small.handle(.restore(Restore()))
        let big = (0..<3).map { Self.file("big\($0)", size: 1000 << 20, chunks: 1000) }
        let split = try small.handle(.entries(big))
        #expect(split.count == 3)
        let encoder = ControlMessageEncoder()
        for case .send(let message) in split { #expect(try encoder.encode(message).count < 100_000) }
    }

    @Test("unreadable folders: named in a final part of their own, a requested one is not notFound, at most 1,000")
    func unreadableFolders() throws {
        var machine = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try machine.handle(.restore(Restore(paths: ["docs", "lost"])))
        let lists = try machine.handle(.entries(Array(Self.tree.prefix(2)), unreadable: ["docs", "lost"]))
            .compactMap { action -> RestoreList? in
                guard case .send(.restoreList(let list)) = action else { return nil }
                return list
            }
        #expect(lists.map(\.final) == [false, true])
        #expect(lists[0].entries.map(\.path) == ["docs", "docs/a"] && lists[0].unreadable == nil)
        #expect(lists[1].entries.isEmpty && lists[1].unreadable == ["docs", "lost"])

        var whole = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try whole.handle(.restore(Restore()))
        let readable = try whole.handle(.entries(Self.tree))
        #expect(readable.count == 1, "no part of its own without unreadable folders")
        var repeated = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try repeated.handle(.restore(Restore(paths: ["a", "a/b"])))
        let once = try repeated.handle(.entries([], unreadable: ["a", "a/b", "a"]))
        #expect(
            once.last
                == .send(
                    .restoreList(
                        RestoreList(
                            snapshot: Self.snapshots[2], entries: [], final: true, unreadable: ["a", "a/b"]))))
        var full = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try full.handle(.restore(Restore()))
        #expect(code { _ = try full.handle(.entries([], unreadable: (1...1_000).map { "d\($0)" })) } == nil)
        var flooded = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try flooded.handle(.restore(Restore()))
        let many = (0...RestoreList.maxUnreadable).map { "d\($0)" }
        #expect(code { _ = try flooded.handle(.entries([], unreadable: many)) } == .storageFailed)
        var long = RestoreSendStateMachine(snapshots: Self.snapshots, maxPartBytes: 100_000)
        _ = try long.handle(.restore(Restore()))
        let wide = (0..<10).map { "d\($0)/" + String(repeating: "x", count: 4_000) }
        #expect(code { _ = try long.handle(.entries([], unreadable: wide)) } == .storageFailed)
    }

    @Test("chunks are listed only for files of at least 1 MiB with at most 65,536 chunks")
    func chunkListing() throws {
        var machine = RestoreSendStateMachine(snapshots: Self.snapshots)
        _ = try machine.handle(.restore(Restore()))
        let entries = [
            Self.file("under", size: (1 << 20) - 2, chunks: 2), Self.file("at", size: 1 << 20, chunks: 2),
            Self.file("many", size: 65_537 * 16, chunks: 65_537),
        ]
        guard case .send(.restoreList(let list)) = try machine.handle(.entries(entries)).first else {
            Issue.record("no list")
            return
        }
        #expect(list.entries.map { $0.chunks?.count } == [nil, 2, nil])
    }

    @Test("RESTORE_WANT refusals, each with its code")
    func wantRefusals() throws {
        func refusal(_ files: [RestoreWant.File]) throws -> FileSyncError.Code? {
            var machine = try Self.listed(Self.tree)
            return code { _ = try machine.handle(.want(RestoreWant(files: files, final: true))) }
        }
        #expect(try refusal([RestoreWant.File(entry: 4)]) == .malformedMessage)  // out of range
        #expect(try refusal([RestoreWant.File(entry: -1)]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 0)]) == .malformedMessage)  // a folder
        #expect(try refusal([RestoreWant.File(entry: 2), RestoreWant.File(entry: 1)]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 1), RestoreWant.File(entry: 1)]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 1, offset: 0)]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 1, offset: 10)]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 1, offset: 9)]) == nil)
        #expect(try refusal([RestoreWant.File(entry: 2, offset: 5, chunks: [1])]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 2, chunks: [])]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 2, chunks: [1, 1])]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 2, chunks: [2, 1])]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 2, chunks: [4])]) == .malformedMessage)
        #expect(try refusal([RestoreWant.File(entry: 2, chunks: [0, 3])]) == nil)
        #expect(try refusal([RestoreWant.File(entry: 3, chunks: [0])]) == .malformedMessage)  // no chunk list
        let tooMany = (0...RestoreWant.maxFilesPerPart).map { RestoreWant.File(entry: $0) }
        #expect(try refusal(tooMany) == .limitExceeded)
    }

    @Test("entry numbers must increase across parts; messages out of place are unexpectedMessage")
    func acrossParts() throws {
        var machine = try Self.listed(Self.tree)
        _ = try machine.handle(.want(RestoreWant(files: [RestoreWant.File(entry: 2)], final: false)))
        #expect(
            code { _ = try machine.handle(.want(RestoreWant(files: [.init(entry: 1)], final: true))) }
                == .malformedMessage)
        var done = try Self.listed(Self.tree)
        _ = try done.handle(.want(RestoreWant(files: [], final: true)))
        #expect(code { _ = try done.handle(.want(RestoreWant(files: [], final: true))) } == .unexpectedMessage)
        #expect(code { _ = try done.handle(.restore(Restore())) } == .unexpectedMessage)
        var early = RestoreSendStateMachine(snapshots: Self.snapshots)
        #expect(code { _ = try early.handle(.want(RestoreWant(files: [], final: true))) } == .unexpectedMessage)
    }

    @Test("the send plan: one file at a time in want order, then RESTORE_END with the counts")
    func plan() throws {
        var machine = try Self.listed(Self.tree)
        let wants = [
            RestoreWant.File(entry: 1, offset: 4), RestoreWant.File(entry: 2, chunks: [1, 3]), .init(entry: 3),
        ]
        _ = try machine.handle(.want(RestoreWant(files: Array(wants[..<1]), final: false)))
        var actions = try machine.handle(.want(RestoreWant(files: Array(wants[1...]), final: true)))
        guard case .sendFile(let first) = actions.first else { Issue.record("no file"); return }
        #expect(first.header.offset == 4 && first.content == .range(4..<10) && first.end.sha256 == Self.tree[1].sha256)
        actions = try machine.handle(.fileSent(bytes: 6))
        guard case .sendFile(let second) = actions.first else { Issue.record("no file"); return }
        #expect(second.header.transfer == .chunked && second.content == .chunks([1, 3]))
        #expect(second.contentBytes == 2 << 20)
        actions = try machine.handle(.fileAborted)
        guard case .sendFile(let third) = actions.first else { Issue.record("no file"); return }
        #expect(third.header.offset == nil && third.header.transfer == nil && third.content == .range(0..<100))
        actions = try machine.handle(.fileSent(bytes: 100))
        #expect(actions == [.send(.restoreEnd(RestoreEnd(files: 2, bytes: 106, failed: 1))), .close])
    }
}
