/// The server's `READY` lacks `"history"`: it keeps no snapshots, so a snapshots or restore
/// session cannot be held (the client closed the connection without sending anything).
public struct HistoryUnavailable: Error, Sendable, CustomStringConvertible {
    public init() {}

    public var description: String { "this server keeps no history (it is older or history is off)" }
}
