import FileSyncCore
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import FileSyncClient

@Suite("History sessions on a connection")
struct HistorySessionTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UUID().uuidString)").path
    let logger = Logger(label: "test")

    static let snapshot = SnapshotDescription(
        id: "20261201T090000Z-1a2b3c4d", time: 1_796_115_600, files: 2, bytes: 12, added: 3, changed: 0, deleted: 0)

    @Test("snapshots: HELLO names the session and announces history; the SNAPSHOTS parts are the list")
    func snapshots() async throws {
        let server = try await ScriptedServer.start()
        let session = HistorySession(options: server.options(in: folder), kind: .snapshots, logger: logger)
        let later = SnapshotDescription(
            id: "20261202T090000Z-00000000", time: 1_796_202_000, files: 3, bytes: 20, added: 1, changed: 0, deleted: 0)
        async let hellos = server.serve([
            { _, outbound, hello in
                try await ScriptedServer.write(ScriptedServer.ready(hello), to: outbound)
                try await ScriptedServer.write(
                    .snapshots(Snapshots(snapshots: [Self.snapshot], final: false)), to: outbound)
                try await ScriptedServer.write(.snapshots(Snapshots(snapshots: [later], final: true)), to: outbound)
            }
        ])
        let (list, endpoint) = try await session.run { channel, _ in try await SnapshotsClient.list(over: channel) }
        let hello = try #require(try await hellos.first)
        #expect(list == [Self.snapshot, later])
        #expect(endpoint == server.endpoint)
        #expect(hello.session == .snapshots)
        #expect(hello.capabilities.contains(Capability.history))
        #expect(
            hello.capabilities.dropLast() == [
                "zstd", "deflate", "resume", "chunks", "chunkerV1", "binaryManifest", "fileFrames", "binaryTasks",
                "tasksPerPart", "metadata", "xattrs", "specials",
                "hardlinks",
            ])
    }

    @Test("READY without history: the client closes having sent nothing, and fails with HistoryUnavailable")
    func noHistory() async throws {
        let server = try await ScriptedServer.start()
        let session = HistorySession(options: server.options(in: folder), kind: .restore, logger: logger)
        let afterReady = Counter()
        async let hellos = server.serve([
            { frames, outbound, hello in
                try await ScriptedServer.write(ScriptedServer.ready(hello, without: [Capability.history]), to: outbound)
                while try await frames.next() != nil { afterReady.add() }
            }
        ])
        let ran = Counter()
        await #expect(throws: HistoryUnavailable.self) {
            try await session.run { _, _ in ran.add() }
        }
        _ = try await hellos
        #expect(afterReady.value == 0, "frames sent after a READY without history")
        #expect(ran.value == 0)
    }

    @Test("restore: waits in the queue; a connection lost after READY starts a new session that restores")
    func restoreRetried() async throws {
        let server = try await ScriptedServer.start()
        let session = HistorySession(options: server.options(in: folder), kind: .restore, logger: logger)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = try RestoreFolder(path: folder + "/target")
        async let hellos = server.serve([
            { frames, outbound, hello in
                try await ScriptedServer.write(.queued(Queued(position: 1, keepaliveSeconds: 15)), to: outbound)
                try await ScriptedServer.write(ScriptedServer.ready(hello), to: outbound)
                guard case .restore = try await ScriptedServer.read(&frames) else {
                    throw FileSyncError(.unexpectedMessage, "expected RESTORE")
                }
                // Closed here: the client sees the connection end before RESTORE_LIST.
            },
            { frames, outbound, hello in
                try await ScriptedServer.write(ScriptedServer.ready(hello), to: outbound)
                guard case .restore = try await ScriptedServer.read(&frames) else {
                    throw FileSyncError(.unexpectedMessage, "expected RESTORE")
                }
                let list = RestoreList(
                    snapshot: Self.snapshot,
                    entries: [RestoreEntry(path: "docs", type: "dir", size: 0, mtimeNs: 0, mode: 0o755)],
                    final: true)
                try await ScriptedServer.write(.restoreList(list), to: outbound)
                guard case .restoreWant(let want) = try await ScriptedServer.read(&frames), want.final else {
                    throw FileSyncError(.unexpectedMessage, "expected RESTORE_WANT")
                }
                try await ScriptedServer.write(.restoreEnd(RestoreEnd(files: 0, bytes: 0, failed: 0)), to: outbound)
            },
        ])
        let (summary, _) = try await session.run { channel, codecs in
            try await RestoreClient(folder: target, codecs: codecs).run(Restore(), over: channel)
        }
        let sent = try await hellos
        #expect(sent.count == 2)
        #expect(sent.allSatisfy { $0.session == .restore && $0.capabilities.contains(Capability.history) })
        #expect(summary.snapshot == Self.snapshot.id)
        #expect(summary.listed == 1)
        var info = stat()
        #expect(stat(folder + "/target/docs", &info) == 0, "the folder of the snapshot was not restored")
    }

    @Test("an ERROR after READY is final: not retried, and mapped as a backup's refusal")
    func refusal() async throws {
        let server = try await ScriptedServer.start()
        let session = HistorySession(options: server.options(in: folder), kind: .snapshots, logger: logger)
        async let hellos = server.serve([
            { _, outbound, hello in
                try await ScriptedServer.write(ScriptedServer.ready(hello), to: outbound)
                let error = ErrorMessage(code: FileSyncError.Code.notFound.rawValue, message: "no snapshots")
                try await ScriptedServer.write(.error(error), to: outbound)
            }
        ])
        do {
            _ = try await session.run { channel, _ in try await SnapshotsClient.list(over: channel) }
            Issue.record("the refusal was not thrown")
        } catch BackupFailure.refused(let refusal) {
            #expect(refusal.error.code == FileSyncError.Code.notFound.rawValue)
        }
        #expect(try await hellos.count == 1)
    }
}

/// A count shared between the test and the scripts it gives the server.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}

extension HistorySessionTests {
    @Test("a partial snapshot's line says how many files its backup failed; a complete one's says nothing")
    func partialSnapshotLine() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        var partial = Self.snapshot
        partial.failed = 2
        #expect(SnapshotsClient.line(partial, timeZone: utc).hasSuffix("  partial: 2 files failed"))
        partial.failed = 1
        #expect(SnapshotsClient.line(partial, timeZone: utc).hasSuffix("  partial: 1 file failed"))
        #expect(!SnapshotsClient.line(Self.snapshot, timeZone: utc).contains("partial"))
    }
}
