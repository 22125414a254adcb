import FileSyncCore
import Foundation
import Logging

/// One client's history as a backup session uses it: old versions preserved before the session
/// changes the plain tree, a snapshot once the session completed, then retention.
///
/// Everything here runs within the client's turn in the queue, so no other writer (another
/// session, the pruner of a later session) works on the same history at once.
struct ClientHistory: Sendable {
    let store: HistoryStore
    /// Whether any snapshot exists: with none, nothing needs preserving.
    let hasSnapshots: Bool
    /// Held as long as this value lives: no prune runs meanwhile.
    let lock: HistoryLock

    init(root: String, id: ClientID) throws {
        store = try HistoryStore(root: root, id: id)
        lock = try HistoryLock(historyPath: store.path)
        hasSnapshots = try store.latestSnapshot() != nil
    }

    /// The preserver to call before plain files change, or `nil` when no snapshot could need them.
    var preserver: Preserver? { hasSnapshots ? Preserver(store: store) : nil }

    /// Records the snapshot of a backup that reached its end (marked partial when `failed` files of
    /// it were not stored), protects the last good one if this run changed most files, and applies
    /// `policy`. Errors are logged: the backup itself has succeeded.
    /// The snapshot records the owners the client claimed (`owners`), not the stored copies' ones,
    /// names the small files the session stored by the hashes it checked (`stored`), and holds the
    /// devices the server could not make (`devices`).
    func recordSnapshot(
        policy: RetentionPolicy, failed: Int, owners: ClaimedOwners? = nil, stored: StoredFileDigests? = nil,
        devices: RecordedDevices? = nil, logger: Logger
    ) {
        let started = ContinuousClock.now
        do {
            var builder = SnapshotBuilder(store: store, hints: store.existingCatalog())
            builder.owners = owners
            builder.stored = stored
            builder.devices = devices
            let result = try builder.build(failed: failed)
            let record = result.record
            if result.unreadableTrees > 0 {
                logger.error(
                    "the previous snapshot has unreadable trees: their folders were read anew (run check)",
                    metadata: [
                        "trees": "\(result.unreadableTrees)", "objectsRepaired": "\(result.objectsRepaired)",
                    ])
            }
            logger.info(
                failed > 0
                    ? "partial snapshot recorded: \(Plural.count(failed, "file")) of this run failed"
                    : "snapshot recorded",
                metadata: [
                    "snapshot": "\(record.id)", "files": "\(record.files)", "added": "\(record.added)",
                    "changed": "\(record.changed)", "deleted": "\(record.deleted)",
                    "read": "\(result.bytesRead)", "took": "\(ContinuousClock.now - started)",
                ])
            let comparedInFull = result.unreadableTrees == 0
            if let protected = try store.protectBeforeDamage(after: record, comparedInFull: comparedInFull) {
                logger.warning(
                    "\(Self.protectionMessage)",
                    metadata: ["snapshot": "\(protected.id)", "reason": "\(protected.reason)"])
            }
            // The sweep reads every kept tree: only worth it when the policy forgets something.
            let records = try store.snapshots().records
            guard !policy.apply(to: records, now: HistoryClock.now()).remove.isEmpty else { return }
            let report = try Pruner(store: store, policy: policy).prune()
            logger.info(
                "retention applied",
                metadata: [
                    "forgotten": "\(report.removed.map(\.id))", "reclaimed": "\(report.bytesReclaimed)",
                    "swept": "\(report.sweepSkipped ?? "yes")",
                ])
        } catch {
            logger.error("cannot record the snapshot", metadata: ["error": "\(error)"])
        }
    }

    /// What the log says when the ransomware guard protects a snapshot.
    static let protectionMessage =
        "this run changed more than half of the files, or could not compare them: the snapshot before it is "
        + "protected from retention"
}
