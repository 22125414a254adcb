import FileSyncCore
import FileSyncSystem
import Foundation

/// One snapshot: a small JSON file `snapshots/<id>.json`, written once (and rewritten only to set
/// ``protected``), durably.
struct SnapshotRecord: Codable, Sendable, Equatable {
    /// `yyyyMMddTHHmmssZ-<8 hex>`: sorts by time; the hex part tells snapshots of one second apart.
    var id: String
    /// Taken after every snapshot on disk: orders snapshots even if the server's clock went back.
    var sequence: Int
    /// The server's clock (UTC) when the snapshot was recorded, ISO 8601 to the second.
    var time: String
    /// The SHA-256 (hex) of the root folder's tree object.
    var rootTree: String
    /// Regular files in the tree.
    var files: Int
    /// Their total size.
    var bytes: Int64
    /// Files new since the previous snapshot, changed (other content or metadata), gone.
    var added: Int
    var changed: Int
    var deleted: Int
    /// Always `true` in a snapshot file (one that says otherwise is not read): the record is whole.
    /// Whether the run stored every file is ``failed``'s to say.
    var complete: Bool
    /// Why retention must keep this snapshot (see ``RetentionPolicy/protectionReason``), if it must.
    var protected: String?
    /// Files the backup run failed to store (a partial snapshot); `nil` when it stored them all. A
    /// run that did not reach its end (a lost connection, an error) records no snapshot at all.
    var failed: Int?

    /// The time as a `Date`; the distant past when the field does not parse.
    var date: Date { Self.parse(time) ?? .distantPast }

    var rootTreeHash: ChunkHash? {
        guard let bytes = [UInt8](hex: rootTree) else { return nil }
        return bytes.withUnsafeBytes { ChunkHash(bytes: $0) }
    }

    /// A new id for a snapshot taken at `date`.
    static func makeID(at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var generator = SystemRandomNumberGenerator()
        let suffix = String(UInt32.random(in: 0...UInt32.max, using: &generator), radix: 16)
        return formatter.string(from: date) + "-" + String(repeating: "0", count: 8 - suffix.count) + suffix
    }

    /// `date` in the ``time`` format.
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }

    static func parse(_ text: String) -> Date? {
        ISO8601DateFormatter().date(from: text)
    }

    /// Whether `name` can be a snapshot file's name (an id and `.json`).
    static func isFileName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.hasPrefix(HistoryIO.temporaryPrefix) && !name.hasPrefix(".")
    }
}

/// The server's clock for snapshot times.
enum HistoryClock {
    /// The environment variable that sets the clock, in Unix seconds. FOR TESTS ONLY: it lets tests
    /// make snapshots at chosen times to check retention. No client message can set a snapshot's
    /// time; only whoever starts the server process can set this.
    static let testVariable = "FILESYNC_TEST_NOW"

    /// Now, from ``testVariable`` when it is set to a number, else the system clock.
    static func now() -> Date {
        if let text = ProcessInfo.processInfo.environment[testVariable], let seconds = Double(text) {
            return Date(timeIntervalSince1970: seconds)
        }
        return Date()
    }
}
