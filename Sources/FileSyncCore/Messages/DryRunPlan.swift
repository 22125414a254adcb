/// Server → client, in a dry run (`HELLO.dryRun` with `dryRun` in force): one part of what a real
/// backup with this manifest would do, after the final manifest part (Protocol.md §4, "Dry run").
/// Unchanged entries are not listed.
public struct DryRunPlan: Codable, Sendable, Equatable {
    public var entries: [Entry]
    /// Set on the last part; `NEXT_SYNC` follows, then the server closes.
    public var final: Bool
    /// On the final part only: deletions beyond ``maxDeletions`` that were not listed.
    public var omitted: Int?

    /// What a real run would do with one path.
    public enum Action: String, Codable, Sendable, CaseIterable {
        /// The server holds nothing there: the file would be sent, the folder or symlink made.
        case new
        /// The server holds another version (a file's size or mtime, a symlink's target or mtime) or
        /// an entry of another type, which would be replaced.
        case changed
        /// Only the permission bits would be applied (a file's content is current, or a folder).
        case meta
        /// A stored entry the manifest lacks, deleted by a backup that mirrors deletions.
        case delete
        /// The entry cannot be stored (code `typeConflict` in a real run); ``Entry/reason`` says why.
        case rejected
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var action: Action
        /// With ``Action/rejected`` only: the reason.
        public var reason: String?
        /// With ``Action/delete`` only: `true` when the stored entry is a folder (absent otherwise), so
        /// that a client can tell which deletions its folder-only exclusion rules keep.
        public var folder: Bool?

        public init(path: String, action: Action, reason: String? = nil, folder: Bool = false) {
            self.path = path
            self.action = action
            self.reason = reason
            self.folder = folder ? true : nil
        }
    }

    public init(entries: [Entry], final: Bool, omitted: Int? = nil) {
        self.entries = entries
        self.final = final
        self.omitted = omitted
    }

    /// Most entries in one part.
    public static let maxEntriesPerPart = 10_000
    /// Most deletions a dry run lists; the others are counted in ``omitted``.
    public static let maxDeletions = ProtocolLimits.maxManifestEntries
    /// Most bytes of a rejection's reason.
    public static let maxReasonBytes = 1024

    /// Checks what a client must not trust: the part's size, every path (Protocol.md §6.1), a
    /// reason only on a rejection and within ``maxReasonBytes``, `omitted` only on the final part.
    public func validated() throws -> DryRunPlan {
        guard entries.count <= Self.maxEntriesPerPart else {
            throw FileSyncError(.limitExceeded, "a PLAN part lists more than \(Self.maxEntriesPerPart) entries")
        }
        guard omitted == nil || (final && omitted! >= 0 && omitted! <= ProtocolLimits.maxManifestEntries * 4) else {
            throw FileSyncError(.malformedMessage, "PLAN carries an invalid omitted count")
        }
        for entry in entries {
            _ = try RelativePath(validating: entry.path)
            guard (entry.reason == nil) == (entry.action != .rejected),
                (entry.reason?.utf8.count ?? 0) <= Self.maxReasonBytes
            else {
                throw FileSyncError(.malformedMessage, "PLAN entry \"\(entry.path)\" has an invalid reason")
            }
            guard entry.folder == nil || entry.action == .delete else {
                throw FileSyncError(
                    .malformedMessage, "PLAN entry \"\(entry.path)\" is marked a folder but is no deletion")
            }
        }
        return self
    }
}
