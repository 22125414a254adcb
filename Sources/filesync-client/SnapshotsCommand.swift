import ArgumentParser
import FileSyncClient
import FileSyncCore
import Foundation
import Logging

/// `filesync-client snapshots --id ID [--json]`: the client's snapshots, newest last.
struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List the snapshots the server keeps of this client, newest last.",
        discussion: """
            One line per snapshot: id, local time, files, bytes, +added ~changed -deleted since the
            previous one, "protected: reason" when retention keeps it whatever the policy, and
            "partial: N files failed" for the snapshot of a run that did not store every file (it
            holds what that run stored; it can be restored like any other).

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
    @Option(help: "This client's id, as used for its backups (default: the profile's).") var id: String?
    @Option(
        help:
            "Take the server, secret and id from this profile of $XDG_CONFIG_HOME/filesync/client.json (default: default)."
    )
    var profile: String?
    @Flag(help: "Print the list as one JSON object, {\"snapshots\": [...]}.") var json = false

    func validate() throws {
        do {
            if let id { _ = try ClientID(validating: id) }
        } catch let error as FileSyncError {
            throw ValidationError(error.message)
        }
    }

    /// The `--json` output: one object, so that fields can be added beside the list later.
    struct Listing: Encodable {
        let snapshots: [SnapshotDescription]
    }

    func run() async throws {
        connection.bootstrapLogging()
        let target = try HistoryCommandTarget(connection: connection, id: id, profile: profile)
        do {
            let options = try target.connection.options(clientID: target.id)
            let session = HistorySession(options: options, kind: .snapshots, logger: Logger(label: "filesync-client"))
            let (snapshots, _) = try await session.run { channel, _ in try await SnapshotsClient.list(over: channel) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(Listing(snapshots: snapshots)), as: UTF8.self))
            } else {
                for snapshot in snapshots { print(SnapshotsClient.line(snapshot)) }
            }
        } catch {
            let (code, message) = RestoreCommand.classify(error)
            ClientCommand.fail(message)
            throw ExitCode(code.rawValue)
        }
    }
}
