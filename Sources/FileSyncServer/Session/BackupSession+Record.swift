import FileSyncCore
import Foundation

extension BackupSession {
    /// Completes the session's record (end, result, bytes on the wire) and writes it to the history,
    /// after the turn was given up: the next session never waits for it.
    func finish(_ record: SessionRecord, ended: (any Error)?) async {
        var record = record
        record.endedAt = Date().timeIntervalSince1970
        record.bytesWire = wire.received + wire.sent
        if let started = record.turnStarted { record.secondsActive = max(0, record.endedAt - started) }
        record.end(with: ended)
        await operations.record(record)
    }
}

extension SessionRecord {
    /// Takes the counts of a planned backup: the manifest's entries and bytes, the files up to date,
    /// and the bytes of the files the task list asks for.
    mutating func note(_ session: BackupSession.PlannedSession) {
        // Regular files, as the client counts what it scanned (folders and links are not files).
        filesScanned = session.manifest.files.count
        bytesTotal = session.manifest.bytes
        filesUnchanged = session.plan.unchanged
        bytesStored = session.manifest.taskBytes
    }
}

extension SessionRecord.Kind {
    init(_ kind: Hello.SessionKind) {
        switch kind {
        case .backup: self = .backup
        case .restore: self = .restore
        case .snapshots: self = .list
        }
    }
}
