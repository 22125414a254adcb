import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension BackupSession.Answer {
    /// Turns the `full` tasks of small files whose stored copy has the same size (a `touch`, most
    /// often) into `delta` tasks (Protocol.md §6.7): the stored copy, at most 1 MiB, is cut with the
    /// v1 chunker and recorded in the catalog, so the client's chunk list finds every unchanged
    /// chunk in place and an unchanged content costs its chunk list, not its bytes. Only for a
    /// client with `chunks` and `chunkerV1` in force (it cuts as the server does).
    mutating func offerTouched(_ plan: inout SyncPlan, folder: ClientFolder) throws {
        guard chunks, cutsLikeClient, !plan.sameSize.isEmpty else { return }
        let touched = plan.tasks.indices.filter {
            plan.tasks.kind(at: $0) == .full && plan.versions[$0].size > 0
                && plan.versions[$0].size < ServerSettings.chunkedMinimumSize
                && plan.sameSize.contains(plan.tasks.path(at: $0))
        }
        guard !touched.isEmpty else { return }
        let catalog = try self.catalog ?? state.openCatalog()
        self.catalog = catalog
        for index in touched {
            let path = plan.tasks.path(at: index)
            guard let relative = try? RelativePath(validating: path), Self.catalogStoredCopy(relative, folder, catalog)
            else { continue }
            plan.tasks[index].kind = .delta
            setChunkTask(path, .delta)
        }
    }

    /// Cuts the stored copy at `path` (a regular file, opened without following anything) and
    /// records its chunks with its identity; `false` when it cannot be read or changed meanwhile.
    private static func catalogStoredCopy(_ path: RelativePath, _ folder: ClientFolder, _ catalog: ChunkCatalog) -> Bool
    {
        guard let fd = folder.openForReading(path) else { return false }
        defer { close(fd) }
        guard let before = FileStatus.of(descriptor: fd), before.kind == .file else { return false }
        var reader = ChunkReader(fd: fd, cutter: CatalogReadBack.readBackCutter)
        var chunks: [ChunkEntry] = []
        do {
            while let chunk = try reader.next() { chunks.append(chunk.entry) }
        } catch {
            return false
        }
        guard let after = FileStatus.of(descriptor: fd), after == before, reader.offset == before.size else {
            return false
        }
        do {
            try catalog.record(
                path: path.string, size: before.size, mtimeNs: before.mtimeNs, inode: before.inode,
                ctimeNs: before.ctimeNs, chunks: chunks)
        } catch {
            return false
        }
        return true
    }
}
