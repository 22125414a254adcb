import FileSyncCore
import Foundation

/// The client's side of a `"snapshots"` session after `READY` (Protocol.md §11.2): the `SNAPSHOTS`
/// parts, oldest first, until the final one.
public enum SnapshotsClient {
    /// - Throws: ``RestoreFailure`` for an `ERROR` or a closed connection, `unexpectedMessage` for
    ///   anything else.
    public static func list(over channel: some RestoreChannel) async throws -> [SnapshotDescription] {
        let decoder = MessageDecoder()
        var snapshots: [SnapshotDescription] = []
        while true {
            guard let frame = try await channel.receive() else { throw RestoreFailure.connectionClosed }
            switch try decoder.decode(frame) {
            case .snapshots(let part):
                snapshots += part.snapshots
                if part.final { return snapshots }
            case .error(let error): throw RestoreFailure.refused(error)
            case let other:
                throw FileSyncError(.unexpectedMessage, "expected SNAPSHOTS, got \(other.kind.rawValue)")
            }
        }
    }
}

extension SnapshotsClient {
    /// The human line of one snapshot: id, local time, files, bytes, `+added ~changed -deleted`,
    /// `protected: reason` when retention keeps it regardless, and `partial: N files failed` for the
    /// snapshot of a run that did not store every file.
    public static func line(_ snapshot: SnapshotDescription, timeZone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let time = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(snapshot.time)))
        var line = "\(snapshot.id)  \(time)  \(Plural.count(snapshot.files, "file"))  \(byteCount(snapshot.bytes))  "
        line += "+\(snapshot.added) ~\(snapshot.changed) -\(snapshot.deleted)"
        if let reason = snapshot.protected { line += "  protected: \(reason)" }
        if let failed = snapshot.failed, failed > 0 {
            line += "  partial: \(failed) file\(failed == 1 ? "" : "s") failed"
        }
        return line
    }

    /// `123 B`, `4.5 MB`: decimal units, as the backup summary prints them.
    public static func byteCount(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
