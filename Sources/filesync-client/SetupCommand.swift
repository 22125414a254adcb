import ArgumentParser
import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

/// `filesync-client setup`: the questions a new user answers once (server, id, secret, folders,
/// schedule), checked against the server, saved as a profile of `client.json`, and a schedule to
/// install (a crontab line, or systemd user units written on request).
struct SetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Set up backups interactively: server, secret, folders, id, schedule; saves a profile.",
        discussion: """
            Asks on the terminal, each question with a default in [brackets]
            (Enter takes it). Connects once to prove the secret and pin the
            server's TLS fingerprint, then saves the answers as a profile of
            $XDG_CONFIG_HOME/filesync/client.json and prints a crontab line;
            offers systemd user timer units instead. With --server-name NAME
            the server of that name among those that answer discovery is
            taken, and the profile names it. Without a terminal it
            exits 64: give a backup its flags instead (--server, --secret-file,
            --source, --id).
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The profile of client.json to write: letters, digits, '.', '_', '-'.") var profile = "default"

    func validate() throws {
        guard (try? ClientID(validating: profile)) != nil else {
            throw ValidationError("--profile takes 1-64 letters, digits, '.', '_' or '-'")
        }
    }

    /// What the answers come to.
    struct Answers {
        var server: Endpoint
        var fingerprint: String?
        var id: ClientID
        var secret: [UInt8] = []
        /// The file the secret was given as, if it was not pasted.
        var secretFile: String?
        var serverName = ""
        /// Chosen by `--server-name`: the profile names the server, found by discovery at each backup.
        var byName = false
        var intervalSeconds: Int?
        var sources: [String] = []
        var schedule = BackupSchedule(seconds: 3600)
    }

    func run() async throws {
        connection.bootstrapLogging()
        guard TerminalInput.isTerminal else {
            ClientCommand.fail(
                "setup asks its questions on a terminal, and standard input is not one: back up with flags instead "
                    + "(--server HOST:PORT, --secret-file FILE, --source DIR, --id ID), or write a profile in "
                    + ClientProfile.path)
            throw ExitCode(ClientExitCode.usage.rawValue)
        }
        let prompter = SetupPrompter()
        do {
            prompter.write("filesync-client setup: press Enter to accept the value in [brackets].\n")
            let (server, fingerprint, byName) = try await chooseServer(prompter)
            let id = try prompter.ask("This client's id (its folder on the server)", default: SetupCommand.hostName) {
                try ClientID(validating: $0)
            }
            var answers = Answers(server: server, fingerprint: fingerprint, id: id)
            answers.byName = byName
            try await proveSecret(prompter, &answers)
            answers.sources = try askFolders(prompter)
            let interval = answers.intervalSeconds.map(DurationParser.format) ?? "1h"
            answers.schedule = try prompter.ask("Back up every (e.g. 15m, 1h, 1d)", default: interval) {
                BackupSchedule(seconds: Int(try DurationParser.seconds(from: $0)))
            }
            try save(answers, prompter)
        } catch {
            let (code, message) = ClientCommand.classify(error)
            ClientCommand.fail(message)
            throw ExitCode(code.rawValue)
        }
    }

    /// The host name's first label, as a backup's default id.
    static var hostName: String {
        let name = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        return (try? ClientID(validating: name)) != nil ? name : "client"
    }
}
