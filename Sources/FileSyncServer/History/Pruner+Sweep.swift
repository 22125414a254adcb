import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Pruner {
    /// Step 3: deletes packs without live chunks and rewrites packs with some (see the type's order).
    func repack(_ marks: Marks, report: inout Report) throws {
        try store.index.reconcile()
        let directory = try HistoryIO.openDirectory(store.packsPath, create: false)
        defer { close(directory) }
        for (name, size) in try store.index.packs().sorted(by: { $0.key < $1.key }) {
            let entries = try store.index.chunks(inPack: name)
            let live = entries.filter { marks.chunks.contains($0.hash) }
            guard live.count < entries.count else { continue }
            var written: Int64 = 0
            if !live.isEmpty { written = try copy(live, from: name, into: directory, report: &report) }
            try store.index.remove(pack: name)
            try step(.oldPackForgotten(name))
            if unlinkat(directory, name, 0) != 0 && errno != ENOENT {
                throw FileSyncError.storage("delete the pack", store.packsPath + "/" + name)
            }
            try HistoryIO.syncDirectory(directory, display: store.packsPath)
            report.packsDeleted += 1
            report.bytesReclaimed += size - written
            try step(.oldPackDeleted(name))
        }
    }

    /// Copies the `live` chunks of the pack `name` into new packs, each synced, named and indexed.
    ///
    /// - Returns: the new packs' bytes.
    private func copy(
        _ live: [PackWriter.Entry], from name: String, into directory: Int32, report: inout Report
    ) throws -> Int64 {
        let source = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard source >= 0 else { throw FileSyncError.storage("open the pack", store.packsPath + "/" + name) }
        defer { close(source) }
        var total: Int64 = 0
        var writer: PackWriter?
        func finish() throws {
            guard let current = writer else { return }
            writer = nil
            let size = current.byteCount + Int64(current.entries.count * PackWriter.recordSize + PackWriter.trailerSize)
            guard let pack = try current.finish() else { return }
            try step(.packWritten(pack.name))
            try store.index.add(pack: pack.name, size: size, entries: pack.entries)
            report.packsWritten += 1
            total += size
            try step(.packIndexed(pack.name))
        }
        for entry in live {
            // A read error stops the prune (the old pack stays); a damaged copy is not carried
            // over: it could not restore anything anyway.
            let bytes = try PackReader.read(source, at: entry.offset, count: entry.length)
            guard bytes.withUnsafeBytes({ ChunkHash(of: $0) }) == entry.hash else { continue }
            if writer == nil { writer = try PackWriter(directory: directory, display: store.packsPath) }
            try bytes.withUnsafeBytes { try writer!.append(entry.hash, $0) }
            if writer!.byteCount >= maxPackSize { try finish() }
        }
        try finish()
        return total
    }

    /// Step 4: deletes the tree objects no snapshot reaches.
    func deleteTrees(_ marks: Marks, report: inout Report) throws {
        for hash in store.allTrees() where !marks.trees.contains(hash) {
            let (folder, name) = store.treeLocation(hash)
            var info = stat()
            let size = stat(folder + "/" + name, &info) == 0 ? Int64(info.st_size) : 0
            guard unlink(folder + "/" + name) == 0 || errno == ENOENT else {
                throw FileSyncError.storage("delete the tree", folder + "/" + name)
            }
            report.treesDeleted += 1
            report.bytesReclaimed += size
            try step(.treeDeleted(hash))
        }
        let fd = try HistoryIO.openDirectory(store.treesPath, create: false)
        defer { close(fd) }
        try HistoryIO.syncFilesystem(fd, display: store.treesPath)
    }

    /// Step 5: deletes the temporary files crashed writers left.
    func deleteTemporaries() {
        for path in [store.packsPath, store.treesPath, store.snapshotsPath] {
            guard let fd = try? HistoryIO.openDirectory(path, create: false) else { continue }
            for name in HistoryIO.names(in: fd) where name.hasPrefix(HistoryIO.temporaryPrefix) {
                unlinkat(fd, name, 0)
            }
            fsync(fd)
            close(fd)
        }
    }
}
