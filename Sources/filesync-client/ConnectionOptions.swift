import ArgumentParser
import FileSyncClient
import FileSyncCore

/// The options that say how to reach and authenticate to the server, the same for `backup`,
/// `restore` and `snapshots`: declared once here so that every subcommand takes them as an
/// `@OptionGroup`. (They duplicate ClientCommand's declarations until the backup command adopts this.)
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Use this server, HOST:PORT, instead of discovery.") var server: String?
    @Option(help: "With discovery, use the server of this name.") var serverName: String?
    @Option(
        help:
            "A copy of the server's secret (default: $XDG_CONFIG_HOME/filesync/secret, else filesync/server.secret there)."
    )
    var secretFile: String?
    @Option(help: "This client's own key, created on first use (default: $XDG_CONFIG_HOME/filesync/keys/<id>.key).")
    var keyFile: String?
    @Flag(help: "Accept a server whose TLS fingerprint changed (its key was replaced on purpose) and pin the new one.")
    var acceptNewFingerprint = false
    @Flag(help: "Connect without TLS, to a server run with --no-tls. Not recommended.") var noTls = false
    @Option(help: "Give up on a connection without progress for this long.") var timeout = "5m"
    @Option(help: "IPv4 address of the interface used for discovery (default: first non-loopback multicast interface).")
    var interface: String?
    @Option(help: "Multicast group for discovery, ADDR:PORT.") var group = Endpoint.defaultGroup.description
    @Option(help: "How long discovery listens for answers.") var discoveryTimeout = "3s"
    @Flag(name: .shortAndLong, help: "Log progress to standard error.") var verbose = false

    func validate() throws {
        if let server { _ = try Endpoint(parsing: server) }
        _ = try Endpoint(parsing: group)
        _ = try DurationParser.duration(from: timeout)
        _ = try DurationParser.duration(from: discoveryTimeout)
    }

    /// Connects, authenticates as `clientID` with `HELLO.session` = `session` (announcing
    /// `"history"`), waits for `READY` and returns the connection with the codecs in force.
    ///
    /// The integrator replaces this body with the client session's connection code (discovery,
    /// TLS, HELLO/CHALLENGE/AUTH, QUEUED/READY, the `"history"` check of §11.1); until then the
    /// subcommands are not registered and this refuses.
    func connect(clientID: ClientID, session: String) async throws -> (channel: any RestoreChannel, codecs: Frame.Flags)
    {
        throw FileSyncError(.internalError, "the \(session) session is not wired to a connection yet")
    }
}
