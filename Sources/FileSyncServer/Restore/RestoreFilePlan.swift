import FileSyncCore

/// How one wanted file is sent (Protocol.md §11.3): its `FILE_HEADER`, then data frames over a
/// byte range or chunk frames of some of its chunks, then its `FILE_END`.
public struct RestoreFilePlan: Sendable, Equatable {
    /// What follows the header.
    public enum Content: Sendable, Equatable {
        /// Data frames carrying these bytes of the file, in blocks of at most 1 MiB.
        case range(Range<Int64>)
        /// One chunk frame per chunk, by index into the entry's chunk list, in this order.
        case chunks([Int])
    }

    /// The entry's number in the `RESTORE_LIST`.
    public var entryNumber: Int
    public var entry: SnapshotEntry
    public var header: FileHeader
    public var content: Content
    /// Carries the SHA-256 of the whole content, whatever part of it travels.
    public var end: FileEnd

    public init(entryNumber: Int, entry: SnapshotEntry, want: RestoreWant.File, sha256: String) {
        self.entryNumber = entryNumber
        self.entry = entry
        var header = FileHeader(path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode)
        if let chunks = want.chunks {
            header.transfer = .chunked
            content = .chunks(chunks)
        } else if let offset = want.offset {
            header.offset = offset
            content = .range(offset..<entry.size)
        } else {
            content = .range(0..<entry.size)
        }
        self.header = header
        end = FileEnd(sha256: sha256)
    }

    /// The content bytes this plan sends.
    public var contentBytes: Int64 {
        switch content {
        case .range(let range): range.upperBound - range.lowerBound
        case .chunks(let indices): indices.reduce(Int64(0)) { $0 + Int64(entry.chunks[$1].length) }
        }
    }
}
