import FileSyncCore
import FileSyncSystem
import Foundation

/// What `filesync-server prune` and `check` do, for every client with a history under a root (or one).
/// Each client's history is locked while it is worked on, so a running server's session of that
/// client waits, and the other way round.
public enum HistoryAdministration {
    /// The outcome of pruning one client.
    public struct PruneSummary: Sendable {
        public var clientID: String
        public var kept: [String]
        public var removed: [String]
        public var bytesReclaimed: Int64
        /// Why nothing was swept, if so.
        public var sweepSkipped: String?
    }

    /// A problem `check` found.
    public struct Damage: Sendable, CustomStringConvertible {
        public var clientID: String
        public var snapshotID: String?
        public var path: String
        public var problem: String
        public var description: String { "\(clientID) \(snapshotID ?? "-") \"\(path)\": \(problem)" }
    }

    /// Checks that `root` is a server's storage folder (it holds `.filesync`) and that `id`, if
    /// given, is a client with a history there, creating nothing: a mistyped root or id is an error,
    /// not "0 clients, no problem".
    ///
    /// - Throws: `invalidSetting` naming what is wrong.
    public static func validate(root: String, id: String?) throws {
        guard FileStatus.of(path: ClientStateDirectory.stateRoot(root))?.kind == .directory else {
            throw FileSyncError(
                .invalidSetting,
                "\(root) is not a filesync server's storage folder (it holds no \(ClientStateDirectory.folderName))")
        }
        guard let id else { return }
        let client = try ClientID(validating: id)
        guard FileStatus.of(path: ClientStateDirectory(root: root, id: client).history)?.kind == .directory else {
            throw FileSyncError(.invalidSetting, "no client \"\(id)\" with a history under \(root)")
        }
    }

    /// The client ids under `root` that have a history (or just `id`, which must).
    public static func clients(root: String, id: String?) throws -> [ClientID] {
        try validate(root: root, id: id)
        if let id { return [try ClientID(validating: id)] }
        let names = DirectoryEntries.names(atPath: ClientStateDirectory.stateRoot(root)) ?? []
        return names.sorted().compactMap { name in
            guard let id = try? ClientID(validating: name),
                FileStatus.of(path: ClientStateDirectory(root: root, id: id).history)?.kind == .directory
            else { return nil }
            return id
        }
    }

    /// Applies `policy` to each client's snapshots (a dry run only reports) and reclaims the space of
    /// what no kept snapshot needs. Protection is honoured unless `liftProtection`.
    public static func prune(
        root: String, id: String?, policy: RetentionPolicy, dryRun: Bool, liftProtection: Bool = false
    ) throws -> [PruneSummary] {
        try clients(root: root, id: id).map { client in
            let store = try HistoryStore(root: root, id: client)
            let lock = try HistoryLock(historyPath: store.path)
            defer { withExtendedLifetime(lock) {} }
            let report = try Pruner(store: store, policy: policy).prune(
                dryRun: dryRun, honoringProtection: !liftProtection)
            return PruneSummary(
                clientID: client.string, kept: report.kept.map(\.id), removed: report.removed.map(\.id),
                bytesReclaimed: report.bytesReclaimed, sweepSkipped: report.sweepSkipped)
        }
    }

    /// Checks every kept snapshot of each client: trees present, every chunk with a source, and with
    /// `readData` every byte hashing to what the snapshot says. Empty when all is sound.
    public static func check(root: String, id: String?, readData: Bool) throws -> (clients: Int, damage: [Damage]) {
        let ids = try clients(root: root, id: id)
        var damage: [Damage] = []
        for client in ids {
            let store = try HistoryStore(root: root, id: client)
            let lock = try HistoryLock(historyPath: store.path)
            defer { withExtendedLifetime(lock) {} }
            damage += try HistoryChecker(store: store).check(readData: readData).map {
                Damage(clientID: client.string, snapshotID: $0.snapshotID, path: $0.path, problem: $0.problem)
            }
        }
        return (ids.count, damage)
    }
}
