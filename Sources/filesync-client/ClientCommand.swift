import ArgumentParser
import FileSyncClient
import FileSyncCore
import Foundation

/// The root command: `backup` (the default, so `filesync-client --source DIR ...` is a backup as
/// it always was), `restore`, `snapshots` and `setup`.
@main
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filesync-client",
        abstract: "Back up a folder to a filesync server on the local network, list its snapshots, restore them.",
        discussion: """
            Without a subcommand, runs one backup and exits (the cron case), or keeps
            running with --loop: `filesync-client --source DIR` is a backup; see
            `filesync-client backup --help` for its options. New here? Run
            `filesync-client setup` on a terminal: it asks what it needs and saves a profile.

            \(exitCodes)
            """,
        version: "filesync-client \(FileSyncVersion.string) (protocol \(ProtocolLimits.version))",
        subcommands: [BackupCommand.self, RestoreCommand.self, SnapshotsCommand.self, SetupCommand.self],
        defaultSubcommand: BackupCommand.self)

    /// The exit codes of a backup, as `--help` and the README list them.
    static let exitCodes = """
        Exit codes:
          0   success
          1   refused by the server, or another failure
          23  some files failed, or a source folder could not be read (the rest is stored)
          64  usage or configuration error
          66  --delete with an empty source folder: nothing was deleted (is the disk mounted?)
          69  no server found
          73  another backup of this source is running
          75  connection lost, or refused (nothing listening), after the retries
          76  TLS failed: the server's fingerprint changed, or one side runs without TLS
          77  authentication failed: wrong secret, or the server could not prove it knows it
          78  the client id is bound to another client's key on the server
          130 stopped by SIGINT (Ctrl-C), 143 by SIGTERM: it says what the server kept for the next run
        """

    static func fail(_ message: String) {
        ClientLines.say(message)
    }

    /// The exit code and message of an error that ended a command, for every subcommand.
    static func classify(_ error: any Error) -> (ClientExitCode, String) {
        switch error {
        case let busy as SourceLock.Busy: return (.alreadyRunning, busy.description)
        case let unsupported as DryRunUnsupported: return (.runtimeFailure, unsupported.description)
        case let failure as BackupFailure:
            switch failure {
            case .noServer: return (.noServer, failure.description)
            case .connectionLost, .connectionRefused: return (.connectionLost, failure.description)
            case .refused: return (.runtimeFailure, failure.description)
            case .authentication: return (.authenticationFailed, failure.description)
            case .clientKeyMismatch: return (.clientKeyMismatch, failure.description)
            case .serverIdentity: return (.serverIdentity, failure.description)
            }
        case let error as FileSyncError where [.invalidSetting, .invalidClientID].contains(error.code):
            return (.usage, error.message)
        case let error as FileSyncError: return (.runtimeFailure, error.message)
        default: return (.runtimeFailure, ConnectionFailure.describe(error, endpoint: nil))
        }
    }
}
