import FileSyncCore
import FileSyncSystem
import Foundation
import NIOCore

/// The client's side of a restore session after `READY` (Protocol.md §11.3, §11.4), over any
/// ``RestoreChannel``: `RESTORE`, the `RESTORE_LIST` parts, the plan (refusing before anything is
/// asked when files are in the way), `RESTORE_WANT`, the files, then folder metadata and, when
/// everything is in place, the removal of `.filesync-restore`.
public struct RestoreClient {
    public var folder: RestoreFolder
    /// `--overwrite`.
    public var overwrite: Bool
    /// The compression flags in force (`.deflated`, `.zstd`).
    public var codecs: Frame.Flags

    public init(folder: RestoreFolder, overwrite: Bool = false, codecs: Frame.Flags = []) {
        self.folder = folder
        self.overwrite = overwrite
        self.codecs = codecs
    }

    /// Runs the session. Its storage calls block (reading local files to plan, writing, `fsync`,
    /// `syncfs` and the journal's `fdatasync` at each commit, renames), so it runs on the
    /// ``StorageExecutor``'s threads, never on the cooperative pool, and waits for the server there.
    ///
    /// - Throws: ``RestoreFailure`` (an `ERROR` from the server, a closed connection), a
    ///   ``FileSyncError`` for a server that broke the protocol or a target that cannot be written.
    public func run(_ request: Restore, over channel: some RestoreChannel) async throws -> RestoreSummary {
        try await withTaskExecutorPreference(StorageExecutor.shared) {
            try await runOnStorageThreads(request, over: channel)
        }
    }

    private func runOnStorageThreads(
        _ request: Restore, over channel: some RestoreChannel
    ) async throws -> RestoreSummary {
        let started = Date()
        let encoder = ControlMessageEncoder()
        try await channel.send([encoder.frame(.restore(request))])
        let (snapshot, entries, unreadable) = try await Self.readList(from: channel)
        let paths = try Self.validate(entries)
        let plan = RestorePlanner(overwrite: overwrite, journal: RestoreJournal.load(from: folder))
            .plan(entries, paths: paths, local: folder)
        var summary: RestoreSummary
        if plan.refused {
            // Nothing is asked: an empty final want lets the server end the session normally.
            try await channel.send([encoder.frame(.restoreWant(RestoreWant(files: [], final: true)))])
            summary = RestoreSummary()
            summary.listed = entries.count
            summary.conflicts = plan.conflicts
        } else {
            // With --overwrite, a file or link where a folder goes gives way before anything is written.
            let unreplaced = plan.replacements.filter { !folder.removeNonFolder($0) }
            try await channel.send(Self.wantParts(plan.wants).map { try encoder.frame(.restoreWant($0)) })
            let receiver = RestoreReceiver(folder: folder, entries: entries, paths: paths, plan: plan, codecs: codecs)
            do {
                while true {
                    guard let frame = try await channel.receive() else { throw RestoreFailure.connectionClosed }
                    if try receiver.receive(frame) { break }
                }
            } catch {
                receiver.commitChecked()
                throw error
            }
            summary = receiver.summary
            summary.failed += unreplaced.map {
                FileResult(path: $0, error: ErrorMessage(RestoreFolder.failure("cannot remove what is in the way")))
            }
            let symlinkFailures = makeSymlinks(plan.symlinks, entries: entries, paths: paths)
            summary.failed += symlinkFailures
            summary.symlinks = plan.symlinks.count - symlinkFailures.count
            let specials = makeSpecials(plan.specials, entries: entries, paths: paths)
            (summary.specials, summary.specialsSkipped) = (specials.made, specials.skipped)
            summary.failed += specials.failed
            let links = makeHardLinks(plan.hardlinks, entries: entries, paths: paths)
            (summary.hardlinks, summary.failed) = (links.made, summary.failed + links.failed)
            summary.failed += finishFolders(entries, paths: paths, failed: Set(plan.failed.map(\.path)))
            if summary.complete && unreadable.isEmpty { folder.removeState() }
        }
        summary.failed += unreadable
        summary.snapshot = snapshot.id
        summary.snapshotFailed = snapshot.failed
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Reads `RESTORE_LIST` parts until the final one: the snapshot, its entries, and a failure for
    /// each folder the server could not read (`unreadable`, with `unreadableFolders` in force).
    static func readList(
        from channel: some RestoreChannel
    ) async throws -> (SnapshotDescription, [RestoreEntry], unreadable: [FileResult]) {
        let decoder = MessageDecoder()
        var entries: [RestoreEntry] = []
        var unreadable: [FileResult] = []
        var snapshot: SnapshotDescription?
        while true {
            guard let frame = try await channel.receive() else { throw RestoreFailure.connectionClosed }
            switch try decoder.decode(frame) {
            case .restoreList(let part):
                // A hostile server must not make the client hold an endless list.
                guard part.entries.count <= RestoreList.maxEntriesPerPart,
                    entries.count + part.entries.count <= ProtocolLimits.maxManifestEntries
                else {
                    throw FileSyncError(.limitExceeded, "a RESTORE_LIST part of \(part.entries.count) entries")
                }
                guard snapshot == nil || snapshot == part.snapshot else {
                    throw FileSyncError(.malformedMessage, "RESTORE_LIST parts name different snapshots")
                }
                snapshot = part.snapshot
                entries += part.entries
                if let named = part.unreadable {
                    // Only in the final part, which lists no entries (§11.3).
                    guard part.final, part.entries.isEmpty else {
                        throw FileSyncError(.malformedMessage, "unreadable folders outside a final part of their own")
                    }
                    unreadable = try Self.unreadableFolders(named)
                }
                if part.final { return (part.snapshot, entries, unreadable) }
            case .error(let error): throw RestoreFailure.refused(error)
            case let other:
                throw FileSyncError(.unexpectedMessage, "expected RESTORE_LIST, got \(other.kind.rawValue)")
            }
        }
    }

    /// A failure for each of `paths`, folders the server could not read (at most
    /// ``RestoreList/maxUnreadable``, each a valid path, none twice).
    public static func unreadableFolders(_ paths: [String]) throws -> [FileResult] {
        guard paths.count <= RestoreList.maxUnreadable else {
            throw FileSyncError(
                .limitExceeded, "RESTORE_LIST names more than \(RestoreList.maxUnreadable) unreadable folders")
        }
        guard Set(paths).count == paths.count else {
            throw FileSyncError(.malformedMessage, "RESTORE_LIST names an unreadable folder twice")
        }
        return try paths.map { path in
            _ = try RelativePath(validating: path)
            let message = "the server cannot read what this folder held in the snapshot (run filesync-server check)"
            return FileResult(path: path, error: ErrorMessage(code: "unreadable", message: message))
        }
    }

    /// Each entry's path, after checking every entry and that no path comes twice.
    public static func validate(_ entries: [RestoreEntry]) throws -> [RelativePath] {
        var seen = Set<String>()
        return try entries.map { entry in
            let path = try entry.validated()
            guard seen.insert(entry.path).inserted else {
                throw FileSyncError(.malformedMessage, "RESTORE_LIST names \"\(entry.path)\" twice")
            }
            return path
        }
    }

    /// `RESTORE_WANT` parts of at most 10,000 files and about 8 MiB of JSON (a chunk index costs
    /// at most 8 bytes).
    static func wantParts(_ wants: [RestoreWant.File]) -> [RestoreWant] {
        var parts: [RestoreWant] = []
        var current: [RestoreWant.File] = []
        var bytes = 0
        for want in wants {
            let size = 64 + (want.chunks?.count ?? 0) * 8
            if !current.isEmpty && (current.count >= RestoreWant.maxFilesPerPart || bytes + size > (8 << 20)) {
                parts.append(RestoreWant(files: current, final: false))
                current = []
                bytes = 0
            }
            current.append(want)
            bytes += size
        }
        parts.append(RestoreWant(files: current, final: true))
        return parts
    }

    /// Creates every listed folder and gives it its mode and mtime, deepest first, after its contents.
    func finishFolders(_ entries: [RestoreEntry], paths: [RelativePath], failed known: Set<String>) -> [FileResult] {
        let folders = entries.indices.filter { entries[$0].type == "dir" && !known.contains(entries[$0].path) }
            .sorted { paths[$0].components.count > paths[$1].components.count }
        var failed: [FileResult] = []
        for index in folders {
            do {
                let fd = try folder.openFolder(paths[index].components, create: true)
                defer { close(fd) }
                let entry = entries[index]
                guard
                    RestoreFolder.apply(
                        mode: entry.mode, mtimeNs: entry.mtimeNs, owner: (entry.uid, entry.gid), xattrs: entry.xattrs,
                        to: fd)
                else {
                    throw RestoreFolder.failure(
                        "cannot set the mode, extended attributes and mtime of the folder \"\(paths[index])\"")
                }
            } catch {
                let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
                failed.append(FileResult(path: entries[index].path, error: ErrorMessage(failure)))
            }
        }
        return failed
    }
}
