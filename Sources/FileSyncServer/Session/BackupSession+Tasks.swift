import FileSyncCore
import NIOCore

extension BackupSession {
    /// The tasks as `TASKS` messages, all at once after the whole manifest.
    func sendTaskMessages(_ plan: SyncPlan, context: SessionContext) async throws {
        let rejected = plan.conflicts.map {
            FileResult(
                path: $0.path, error: ErrorMessage(code: $0.code.rawValue, message: $0.reason))
        }
        let taskParts = MessageParts.split(Array(plan.tasks), maxCount: ProtocolLimits.maxTasksPerPart) { $0.path }
        let rejectedParts = MessageParts.split(rejected, maxCount: ProtocolLimits.maxTasksPerPart) { $0.path }
        let count = max(taskParts.count, rejectedParts.count)
        var frames: [Frame] = []
        for index in 0..<count {
            let tasks = index < taskParts.count ? Array(taskParts[index]) : []
            let refused = index < rejectedParts.count ? Array(rejectedParts[index]) : []
            let part = Tasks(tasks: tasks, rejected: refused.isEmpty ? nil : refused, final: index == count - 1)
            frames.append(try context.frame(.tasks(part)))
        }
        try await context.outbound.write(contentsOf: frames)
    }

    /// The tasks of one manifest part as tasks frames: each task names its entry by its position in
    /// the manifest, which is added to `requested`. `entries` are the part's entries, the first at
    /// `firstEntry`; no frame for a part without tasks or rejections unless it is the last.
    func taskFrames(
        _ plan: SyncPlan, entries: [ManifestEntry], firstEntry: Int, final: Bool, manifest: Manifest,
        requesting requested: inout EntrySet
    ) throws -> [Frame] {
        guard final || !plan.tasks.isEmpty || !plan.conflicts.isEmpty else { return [] }
        // The plan lists tasks in the part's order: one pass over its entries finds their positions.
        var builder = BinaryTasks.PartBuilder()
        var cursor = 0
        for task in plan.tasks {
            while cursor < entries.count && entries[cursor].path != task.path { cursor += 1 }
            guard cursor < entries.count else {
                throw FileSyncError(.internalError, "the plan does not list \"\(task.path)\" in manifest order")
            }
            builder.append(entry: firstEntry + cursor, task: task)
            requested.insert(firstEntry + cursor)
            cursor += 1
        }
        let rejected = try plan.conflicts.map { conflict in
            guard let index = manifest.paths.index(of: conflict.path) else {
                throw FileSyncError(.internalError, "\"\(conflict.path)\" is planned but not in the manifest")
            }
            return BinaryTasks.Rejection(entry: index, message: conflict.reason)
        }
        return builder.parts(rejected: rejected, final: final).map {
            Frame(kind: .tasks, payload: BinaryTasks.encode($0))
        }
    }
}
