import ArgumentParser
import FileSyncCore
import FileSyncServer
import Foundation

/// `filesync-server status`: every client's backup health, and what the server does now.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each client's last backup, and what the server is doing now.",
        discussion: """
            Asks the running server through its control socket (<root>/.filesync/@server/control.sock) and,
            when none runs, reads the session history on disk (no live state then).
            Exit codes: 0 all fresh (or no --stale), 1 some client stale or never backed up (with --stale;
            listed on stderr), 2 the state cannot be read, 64 usage.
            """)

    @Option(help: "The server's storage folder (default: the root in the saved config).") var root: String?
    @Option(help: "Config file to read the root from (default: $XDG_CONFIG_HOME/filesync/server.json).")
    var config: String?
    @Flag(help: "Print the status as one JSON document (the same as the status page's /api/status).")
    var json = false
    @Option(help: "Only this client.") var client: String?
    @Option(help: "Exit 1 when a client's last success is older than this (e.g. 26h), listing them.")
    var stale: String?
    @Option(
        parsing: .upToNextOption,
        help:
            "Client ids that must have backed up: listed as 'never' when they have no success (adds to the config's list)."
    )
    var expect: [String] = []

    func validate() throws {
        // A bad duration is a usage error (64), not the exit 1 that means "a client is stale".
        if let stale, (try? DurationParser.seconds(from: stale)) == nil {
            throw ValidationError("--stale takes a duration, e.g. 26h, 90m or 2d")
        }
    }

    func run() async throws {
        let staleAfter = try stale.map { Double(try DurationParser.seconds(from: $0)) }
        let status: ServerStatus
        do {
            status = try await read(staleAfter: staleAfter)
        } catch {
            FileHandle.standardError.write(Data("filesync-server status: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var clients = status.clients
        if let client {
            clients = clients.filter { $0.id == client }
            // A client the server has no record of has never backed up: shown so, not "no client".
            if clients.isEmpty { clients = [ClientStatus(id: client, freshness: .never)] }
        }
        var shown = status
        shown.clients = clients
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(shown), as: UTF8.self))
        } else {
            print(StatusTable.render(shown))
        }
        guard staleAfter != nil else { return }
        let late = clients.filter { $0.freshness == .stale || $0.freshness == .never }
        guard !late.isEmpty else { return }
        for item in late {
            let when = item.lastSuccessAgeSeconds.map { "last success \(StatusText.age($0)) ago" } ?? "never backed up"
            FileHandle.standardError.write(Data("\(item.freshness.rawValue): \(item.id) (\(when))\n".utf8))
        }
        throw ExitCode(1)
    }

    /// The server's status (live) or the disk's, freshness judged against `staleAfter`.
    private func read(staleAfter: Double?) async throws -> ServerStatus {
        let saved = try AdministrationRoot.savedSettings(config: config)
        guard let root = root ?? saved?.root else {
            throw ValidationError("no --root given and no root saved in \(config ?? SavedSettings.defaultPath)")
        }
        let expected = expect + (saved?.expect ?? [])
        let interval = try saved?.interval.map { Double(try DurationParser.seconds(from: $0)) } ?? 3600
        var reader = StatusReader(root: root, log: nil, lateAfter: 2 * interval)
        if let staleAfter { reader.staleAfter = staleAfter }
        reader.expected = expected
        var status: ServerStatus
        if let live = try await ControlClient.fetch(root: root) {
            status = live
            reader.lateAfter = live.lateAfterSeconds
            if staleAfter == nil { reader.staleAfter = live.staleAfterSeconds }
        } else {
            status = try StatusReader(
                root: root, log: try SessionLog.openReadOnly(root: root), lateAfter: reader.lateAfter
            )
            .status(live: nil)
        }
        return reader.rejudge(status)
    }
}
