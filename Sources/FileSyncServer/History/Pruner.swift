import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Applies a ``RetentionPolicy`` to a client's history and reclaims what no kept snapshot needs.
///
/// Never run it while a session of that client builds a snapshot or preserves files: a snapshot
/// reuses tree objects already on disk, which a concurrent sweep could delete as unreachable.
///
/// ## Order, and why a `kill -9` at any moment loses nothing a kept snapshot needs
/// 1. **Forget**: the snapshot files the policy removes are deleted and their folder synced. Kept
///    snapshot files are never written. A crash before the sync only leaves some forgotten snapshots
///    in place, to be decided again next time.
/// 2. **Mark**: the snapshots are read *from disk again* (so whatever survived step 1 counts as kept)
///    and every tree and chunk they reach is marked. If any of their trees cannot be read, the
///    sweep stops: what it needs cannot be known, so nothing is deleted. The same holds when a
///    snapshot file does not decode.
/// 3. **Repack**: a pack with no live chunk is removed from the index, then deleted. A pack with
///    some is rewritten: its live chunks (each checked against its hash) go to a new pack that is
///    synced, renamed, its folder synced and indexed, and only then is the old pack removed from the
///    index and deleted. Every live chunk is thus in a named, synced pack at every moment; the index
///    is reconciled with the `packs` folder whenever it is opened, so a crash between a rename and
///    an index commit (in either direction) is repaired.
/// 4. **Trees**: tree objects no snapshot on disk reaches are deleted. Snapshot files went first
///    (step 1), so no snapshot file ever names a deleted tree.
/// 5. **Temporaries** left by crashed writers are deleted (no writer runs during a prune).
///
/// Every step is idempotent: running the prune again after a crash completes it.
struct Pruner {
    let store: HistoryStore
    var policy: RetentionPolicy = .defaults
    /// The most bytes of live chunks written to one new pack.
    var maxPackSize: Int64 = 64 << 20
    /// Called after each durable step; returning `false` stops the prune right there, as a crash
    /// would (for tests).
    var afterStep: (Step) -> Bool = { _ in true }

    /// The durable steps, in order.
    enum Step: Sendable, Equatable {
        case snapshotsForgotten
        case marked
        case packWritten(String)
        case packIndexed(String)
        case oldPackForgotten(String)
        case oldPackDeleted(String)
        case treeDeleted(ChunkHash)
        case temporariesDeleted
    }

    /// What a prune did (or, in a dry run, would do).
    struct Report: Sendable {
        var kept: [RetentionPolicy.Decision] = []
        var removed: [RetentionPolicy.Decision] = []
        /// Bytes freed on disk (deleted files less new packs); in a dry run, the bytes of chunks and
        /// trees that would become unreachable.
        var bytesReclaimed: Int64 = 0
        var packsDeleted = 0
        var packsWritten = 0
        var treesDeleted = 0
        /// `false` when ``afterStep`` stopped it, or the sweep was skipped for an unreadable tree.
        var completed = false
        /// Why the sweep was skipped, if it was.
        var sweepSkipped: String?
    }

    /// Thrown inside the prune when ``afterStep`` asks to stop.
    struct Stopped: Error {}

    /// Runs the prune (or only decides, with `dryRun`).
    func prune(dryRun: Bool = false, now: Date = HistoryClock.now(), honoringProtection: Bool = true) throws -> Report {
        let records = try store.snapshots().records
        let decision = policy.apply(to: records, now: now, honoringProtection: honoringProtection)
        var report = Report(kept: decision.keep, removed: decision.remove)
        let removed = Set(decision.remove.map(\.id))
        if dryRun {
            let kept = records.filter { !removed.contains($0.id) }
            if let marks = try? mark(kept) { report.bytesReclaimed = try unreachableBytes(marks) }
            return report
        }
        do {
            try store.deleteSnapshots(Array(removed))
            try step(.snapshotsForgotten)
            let marks: Marks
            do {
                let (remaining, unreadable) = try store.snapshots()
                guard unreadable.isEmpty else {
                    report.sweepSkipped = "snapshot files cannot be read (\(unreadable)); nothing was swept"
                    return report
                }
                marks = try mark(remaining)
            } catch {
                report.sweepSkipped = "a kept snapshot's tree cannot be read (\(error)); nothing was swept"
                return report
            }
            try step(.marked)
            try repack(marks, report: &report)
            try deleteTrees(marks, report: &report)
            deleteTemporaries()
            try step(.temporariesDeleted)
            report.completed = true
        } catch is Stopped {
            report.completed = false
        }
        return report
    }

    func step(_ step: Step) throws {
        guard afterStep(step) else { throw Stopped() }
    }

    /// The trees and chunks that the snapshots reach.
    struct Marks {
        var trees: Set<ChunkHash> = []
        var chunks: Set<ChunkHash> = []
    }

    /// Marks everything `records` reach; throws when a tree cannot be read.
    func mark(_ records: [SnapshotRecord]) throws -> Marks {
        var marks = Marks()
        func visit(_ hash: ChunkHash) throws {
            guard marks.trees.insert(hash).inserted else { return }
            let tree = try store.tree(hash)
            for piece in tree.listObjects { marks.trees.insert(piece.hash) }
            for entry in tree.entries {
                switch entry.content {
                case .folder(let child): try visit(child)
                case .file(let file): for chunk in file.chunks { marks.chunks.insert(chunk.hash) }
                case .symlink, .special: break
                }
            }
        }
        for record in records {
            guard let root = record.rootTreeHash else {
                throw FileSyncError(.storageFailed, "snapshot \(record.id) has a malformed root tree hash")
            }
            try visit(root)
        }
        return marks
    }

    /// What a sweep with `marks` would free: unreachable packed chunks and trees.
    private func unreachableBytes(_ marks: Marks) throws -> Int64 {
        var bytes: Int64 = 0
        for pack in try store.index.packs().keys {
            for entry in try store.index.chunks(inPack: pack) where !marks.chunks.contains(entry.hash) {
                bytes += Int64(entry.length)
            }
        }
        for tree in store.allTrees() where !marks.trees.contains(tree) {
            let (folder, name) = store.treeLocation(tree)
            var info = stat()
            if stat(folder + "/" + name, &info) == 0 { bytes += Int64(info.st_size) }
        }
        return bytes
    }
}
