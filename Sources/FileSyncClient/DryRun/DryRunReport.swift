import FileSyncCore

/// What a dry run found (`--dry-run`): one line per path a backup would change, and the totals;
/// printed as lines, or as one JSON object with `--json`.
public struct DryRunReport: Codable, Sendable {
    /// Always `true`: tells this document from a backup's summary.
    public var dryRun = true
    /// The server's answer in its order: manifest entries first, then deletions (deepest first).
    public var entries: [DryRunPlan.Entry] = []
    /// Entries per action.
    public var new = 0
    public var changed = 0
    public var meta = 0
    public var delete = 0
    public var rejected = 0
    /// Deletions the server counted but did not list (beyond 5,000,000).
    public var deletionsOmitted = 0
    /// Regular files found in the source, and those of them a backup would not send.
    public var scanned = 0
    public var unchanged = 0
    /// Regular files of the source the server would reject.
    public var filesRejected = 0
    /// Files and bytes of content a backup would send (new and changed files, before compression).
    public var filesToSend = 0
    public var bytesToSend: Int64 = 0
    /// Entries left out by the exclusion rules or for their size.
    public var excluded = 0
    /// Whether deletions were asked for (`--delete`) and would be applied.
    public var mirrorDeletions = false
    /// Why deletions would not be applied (an empty source, excluded entries without `--delete-excluded`).
    public var deletionsSkipped: String?
    public var server: String?
    public var serverName: String?
    public var seconds = 0.0

    public init() {}

    /// Adds one `PLAN` part, checked against the manifest: every entry but a deletion names one of
    /// its paths (`positions`: manifest position by path), and no more entries than the manifest
    /// and the deletion limit allow.
    mutating func add(_ part: DryRunPlan, manifest: PackedManifest, positions: [String: Int]) throws {
        let plan = try part.validated()
        guard entries.count + plan.entries.count <= manifest.count + DryRunPlan.maxDeletions else {
            throw FileSyncError(.limitExceeded, "the server's PLAN lists more entries than the manifest allows")
        }
        for entry in plan.entries {
            switch entry.action {
            case .delete: delete += 1
            case .new, .changed, .meta, .rejected:
                guard let position = positions[entry.path] else {
                    throw FileSyncError(.malformedMessage, "PLAN names \"\(entry.path)\", which is not in the manifest")
                }
                switch entry.action {
                case .new: new += 1
                case .changed: changed += 1
                case .meta: meta += 1
                default:
                    rejected += 1
                    if manifest.type(at: position) == .file { filesRejected += 1 }
                }
                if entry.action == .new || entry.action == .changed, manifest.type(at: position) == .file {
                    filesToSend += 1
                    bytesToSend += manifest.size(at: position)
                }
            }
        }
        entries += plan.entries
        deletionsOmitted += plan.omitted ?? 0
    }

    /// One line per entry: the action padded to 8 columns, the path (and a rejection's reason).
    public var lines: [String] {
        entries.map { entry in
            let action = entry.action.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            return "\(action) \(entry.path)" + (entry.reason.map { " (\($0))" } ?? "")
        }
    }

    /// The total line.
    public var totalLine: String {
        var line = "filesync: dry run: \(new) new, \(changed) changed, \(meta) meta"
        line += mirrorDeletions ? ", \(delete + deletionsOmitted) to delete" : ", deletions kept on the server"
        line += ", \(rejected) rejected; \(Plural.count(filesToSend, "file")) to send"
        line += " (\(SnapshotsClient.byteCount(bytesToSend))), \(unchanged) unchanged of \(scanned) scanned"
        if excluded > 0 { line += ", \(excluded) excluded" }
        if let server { line += "; nothing was sent or changed on \(serverName.map { "\"\($0)\" " } ?? "")\(server)" }
        return line
    }
}
