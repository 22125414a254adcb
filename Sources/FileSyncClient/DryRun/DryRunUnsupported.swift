/// The server does not know dry runs (no `dryRun` in `READY`): it would have run a real backup, so
/// the client stopped right after the handshake, having sent nothing.
public struct DryRunUnsupported: Error, CustomStringConvertible {
    public let serverName: String
    public let server: String

    public var description: String {
        "the server \"\(serverName)\" at \(server) cannot do a dry run (it lacks the dryRun capability: it is an "
            + "older version); nothing was sent, nothing changed"
    }
}
