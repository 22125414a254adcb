import ArgumentParser
import FileSyncClient
import FileSyncCore
import Foundation

/// `filesync-client snapshots --id ID [--json]`: the client's snapshots, newest last.
///
/// To register: add `SnapshotsCommand.self` (and `RestoreCommand.self`) to the `subcommands` of
/// the root command's `CommandConfiguration` in ClientCommand.swift.
struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List the snapshots the server keeps of this client, newest last.",
        discussion: """
            One line per snapshot: id, local time, files, bytes, +added ~changed -deleted since the
            previous one, and "protected: reason" when retention keeps it whatever the policy.

            Exit codes:
              0   success
              1   refused by the server (e.g. it keeps no history), or another failure
              64  usage or configuration error
              69  no server found
              75  connection lost
              76  TLS failed: the server's fingerprint changed, or one side runs without TLS
              77  authentication failed
              78  the client id is bound to another client's key on the server
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "This client's id, as used for its backups.") var id: String
    @Flag(help: "Print the list as one JSON array.") var json = false

    func validate() throws {
        do {
            _ = try ClientID(validating: id)
        } catch let error as FileSyncError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        do {
            let (channel, _) = try await connection.connect(
                clientID: try ClientID(validating: id), session: "snapshots")
            let snapshots = try await SnapshotsClient.list(over: channel)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(snapshots), as: UTF8.self))
            } else {
                for snapshot in snapshots { print(SnapshotsClient.line(snapshot)) }
            }
        } catch {
            let (code, message) = RestoreCommand.classify(error)
            FileHandle.standardError.write(Data("filesync-client: \(message)\n".utf8))
            throw ExitCode(code.rawValue)
        }
    }
}
