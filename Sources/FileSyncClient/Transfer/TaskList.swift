import FileSyncCore

/// The task list as it arrives: runs of manifest entries in ascending order, checked against the
/// manifest (Protocol.md §4, TASKS), with the entries the server rejected.
///
/// Tasks frames (`binaryTasks`) name entries and are usable part by part; `TASKS` messages (the
/// minimal-client path) name paths and are looked up once the final part has arrived.
struct TaskList: Sendable {
    /// The runs received so far, in manifest order.
    private(set) var runs: [BinaryTasks.Run] = []
    /// The entry after the last run so far.
    private(set) var end = 0
    /// Whether the final part has arrived.
    private(set) var complete = false
    /// Files of the manifest the server rejected.
    private(set) var rejected = 0
    /// `TASKS` messages' tasks, kept until the final part.
    private var named: [TransferTask] = []

    /// The number of files asked for so far.
    var taskCount: Int { runs.reduce(0) { $0 + $1.count } }

    /// Adds one tasks frame's part: every run must lie within the manifest, name only files, and
    /// start after the previous run ended; every rejection must name an entry of the manifest.
    /// Returns the part's rejections: why each rejected path was rejected.
    mutating func receive(_ part: BinaryTasks.Part, of manifest: PackedManifest) throws -> [Rejection] {
        try checkOpen()
        for run in part.runs {
            guard run.first >= end, run.first + run.count <= manifest.count,
                run.entries.allSatisfy({ manifest.type(at: $0) == .file })
            else {
                throw FileSyncError(
                    .unexpectedMessage,
                    "the server asked for manifest entries \(run.first)..<\(run.first + run.count), "
                        + "which are not files offered once each")
            }
            end = run.first + run.count
            runs.append(run)
        }
        for rejection in part.rejected {
            guard rejection.entry < manifest.count else {
                throw FileSyncError(.unexpectedMessage, "the server rejected entry \(rejection.entry), not offered")
            }
        }
        rejected += part.rejected.count { manifest.type(at: $0.entry) == .file }
        complete = part.final
        return part.rejected.map { Rejection(path: manifest.path(at: $0.entry), reason: $0.message) }
    }

    /// Adds one `TASKS` message's part; at the final part, looks every task's path up in the
    /// manifest (each must name a file, once). Returns the part's rejections.
    mutating func receive(_ part: Tasks, of manifest: PackedManifest) throws -> [Rejection] {
        try checkOpen()
        named += part.tasks
        rejected += part.rejected?.count ?? 0
        if part.final {
            runs = try Self.resolve(named, in: manifest)
            named = []
            complete = true
        }
        return (part.rejected ?? []).map { Rejection(path: $0.path, reason: $0.error?.message ?? "rejected") }
    }

    /// A manifest entry the server will not store.
    struct Rejection: Equatable {
        var path: String
        var reason: String
    }

    private func checkOpen() throws {
        guard !complete else {
            throw FileSyncError(.unexpectedMessage, "a task part arrived after the final one")
        }
    }

    /// The runs of one entry each for tasks named by path.
    private static func resolve(_ named: [TransferTask], in manifest: PackedManifest) throws -> [BinaryTasks.Run] {
        let wanted = Set(named.lazy.map(\.path))
        var positions: [String: Int] = [:]
        positions.reserveCapacity(wanted.count)
        if !wanted.isEmpty {
            for index in manifest.indices where manifest.type(at: index) == .file {
                let path = manifest.path(at: index)
                if wanted.contains(path) { positions[path] = index }
            }
        }
        return try named.map { task in
            guard let index = positions.removeValue(forKey: task.path) else {
                throw FileSyncError(
                    .unexpectedMessage,
                    "the server asked for \"\(task.path)\" (\(task.kind.rawValue)), which was not offered")
            }
            return BinaryTasks.Run(first: index, kind: task.kind, offset: task.offset, prefixSha256: task.prefixSha256)
        }
    }
}
