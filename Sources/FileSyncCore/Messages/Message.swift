/// A control message: one JSON object in a control frame, told apart by its `"type"` field.
///
/// Unknown fields are ignored (so later versions can add fields); an unknown `"type"` is an error.
/// See Protocol.md, "Messages".
public enum Message: Sendable, Equatable {
    case hello(Hello)
    case challenge(Challenge)
    case auth(Auth)
    case ready(Ready)
    case queued(Queued)
    case filesInfo(FilesInfo)
    case tasks(Tasks)
    case fileHeader(FileHeader)
    case fileEnd(FileEnd)
    case fileAbort(FileAbort)
    case chunkNeed(ChunkNeed)
    case fileAck(FileAck)
    case done(Done)
    case nextSync(NextSync)
    case error(ErrorMessage)
    case snapshots(Snapshots)
    case restore(Restore)
    case restoreList(RestoreList)
    case restoreWant(RestoreWant)
    case restoreEnd(RestoreEnd)
    case plan(DryRunPlan)

    /// The value of the `"type"` field for each message.
    public enum Kind: String, Codable, Sendable {
        case hello = "HELLO"
        case challenge = "CHALLENGE"
        case auth = "AUTH"
        case ready = "READY"
        case queued = "QUEUED"
        case filesInfo = "CLIENT_FILES_INFO"
        case tasks = "TASKS"
        case fileHeader = "FILE_HEADER"
        case fileEnd = "FILE_END"
        case fileAbort = "FILE_ABORT"
        case chunkNeed = "CHUNK_NEED"
        case fileAck = "FILE_ACK"
        case done = "DONE"
        case nextSync = "NEXT_SYNC"
        case error = "ERROR"
        case snapshots = "SNAPSHOTS"
        case restore = "RESTORE"
        case restoreList = "RESTORE_LIST"
        case restoreWant = "RESTORE_WANT"
        case restoreEnd = "RESTORE_END"
        case plan = "PLAN"
    }

    public var kind: Kind {
        switch self {
        case .hello: .hello
        case .challenge: .challenge
        case .auth: .auth
        case .ready: .ready
        case .queued: .queued
        case .filesInfo: .filesInfo
        case .tasks: .tasks
        case .fileHeader: .fileHeader
        case .fileEnd: .fileEnd
        case .fileAbort: .fileAbort
        case .chunkNeed: .chunkNeed
        case .fileAck: .fileAck
        case .done: .done
        case .nextSync: .nextSync
        case .error: .error
        case .snapshots: .snapshots
        case .restore: .restore
        case .restoreList: .restoreList
        case .restoreWant: .restoreWant
        case .restoreEnd: .restoreEnd
        case .plan: .plan
        }
    }
}
