import FileSyncCore
import Foundation
import Testing

@testable import FileSyncServer

@Suite("Session history")
struct SessionLogTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-\(UUID().uuidString)").path

    init() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func record(_ id: String, endedAt: Double, _ result: SessionRecord.Result, reason: String? = nil) -> SessionRecord {
        var record = SessionRecord(clientId: id, peer: "127.0.0.1:50000", startedAt: endedAt - 10)
        record.endedAt = endedAt
        record.result = result
        record.reason = reason
        record.filesScanned = 12
        record.bytesTotal = 3000
        record.bytesStored = 1000
        return record
    }

    @Test("a client's summary: last success, last attempt, failures since the success, counts by result")
    func summary() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = try SessionLog(root: root)
        let now = Date().timeIntervalSince1970
        try log.insert(record("alpha", endedAt: now - 300, .failed, reason: "connectionClosed"))
        try log.insert(record("alpha", endedAt: now - 200, .ok))
        try log.insert(record("alpha", endedAt: now - 100, .refused, reason: "queueFull"))
        try log.insert(record("alpha", endedAt: now - 50, .failed, reason: "timeout"))
        try log.insert(record("bravo", endedAt: now - 10, .partial))
        let summaries = try log.clientSummaries()
        #expect(summaries.map(\.clientId) == ["alpha", "bravo"])
        let alpha = summaries[0]
        #expect(alpha.lastSuccess?.endedAt == now - 200)
        #expect(alpha.lastAttempt?.result == .failed)
        #expect(alpha.lastAttempt?.reason == "timeout")
        #expect(alpha.consecutiveFailures == 2)
        #expect(alpha.sessionsByResult == ["failed": 2, "ok": 1, "refused": 1])
        #expect(alpha.bytesStoredTotal == 4000)
        // A partial backup completed: it counts as the last success.
        #expect(summaries[1].lastSuccess?.result == .partial)
        #expect(summaries[1].consecutiveFailures == 0)
    }

    @Test("records older than the kept period are pruned when a session is recorded")
    func retention() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = try SessionLog(root: root, retention: 3600)
        let now = Date().timeIntervalSince1970
        try log.insert(record("old", endedAt: now - 7200, .ok), now: now - 7000)
        #expect(try log.allRecords().count == 1)
        try log.insert(record("new", endedAt: now, .ok), now: now)
        #expect(try log.allRecords().map(\.clientId) == ["new"])
    }

    @Test("the read-only view sees what the server wrote; no log yet is nil, a missing root an error")
    func readOnly() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try SessionLog.openReadOnly(root: root) == nil)
        #expect(throws: FileSyncError.self) { try SessionLog.openReadOnly(root: root + "/missing") }
        try SessionLog(root: root).insert(record("alpha", endedAt: Date().timeIntervalSince1970, .ok))
        let reader = try #require(try SessionLog.openReadOnly(root: root))
        #expect(try reader.clientSummaries().map(\.clientId) == ["alpha"])
    }

    @Test("an ended session's result: refusals by reason, failures by code, partial with failed files")
    func results() {
        var record = SessionRecord(clientId: "a", peer: "p", startedAt: 0)
        record.end(with: FileSyncError(.authenticationFailed, "x"))
        #expect((record.result, record.reason) == (.refused, "auth"))
        record.end(with: FileSyncError(.clientKeyMismatch, "x"))
        #expect((record.result, record.reason) == (.refused, "keyBinding"))
        record.end(with: FileSyncError(.queueFull, "x"))
        #expect((record.result, record.reason) == (.refused, "queueFull"))
        record.end(with: FileSyncError(.unsupportedVersion, "x"))
        #expect((record.result, record.reason) == (.refused, "version"))
        record.end(with: FileSyncError(.noSpace, "x"))
        #expect((record.result, record.reason) == (.failed, "noSpace"))
        record.filesFailed = 2
        record.end(with: nil)
        #expect(record.result == .partial)
    }

    @Test("freshness: fresh within the late limit, late, stale past the stale limit, never without a success")
    func freshness() {
        #expect(Freshness.of(age: 10, lateAfter: 100, staleAfter: 1000) == .fresh)
        #expect(Freshness.of(age: 500, lateAfter: 100, staleAfter: 1000) == .late)
        #expect(Freshness.of(age: 5000, lateAfter: 100, staleAfter: 1000) == .stale)
        #expect(Freshness.of(age: nil, lateAfter: 100, staleAfter: 1000) == .never)
    }

    @Test("the status lists expected clients that never connected as never, and counts snapshots")
    func expected() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = try SessionLog(root: root)
        try log.insert(record("alpha", endedAt: Date().timeIntervalSince1970 - 30, .ok))
        var reader = StatusReader(root: root, log: log, lateAfter: 3600)
        reader.expected = ["alpha", "zulu"]
        let status = try reader.status(live: nil)
        #expect(status.source == "disk")
        #expect(status.clients.map(\.id) == ["alpha", "zulu"])
        #expect(status.clients.map(\.freshness) == [.fresh, .never])
        #expect(status.clients[0].filesStored == 12)
        #expect(status.clients[0].bytesStored == 3000)
    }
}
