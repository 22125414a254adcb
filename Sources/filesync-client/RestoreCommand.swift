import ArgumentParser
import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

/// `filesync-client restore --id ID --to DIR [--snapshot S | --at TIME] [PATH...] [--overwrite] [--json]`.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore files from a snapshot on the server into a folder.",
        discussion: """
            Restores the whole tree, or the files and folders named, as they were in the snapshot
            (default: the newest). Every file is checked against its SHA-256 before it appears under
            its name; modes and mtimes are restored. A cut restore run again continues where it
            stopped (DIR/.filesync-restore holds its progress until it completes). Without
            --overwrite, nothing is restored when a file to restore already exists in DIR.

            --at takes 2026-12-01T09:00, 2026-12-01T09:00:30 or 2026-12-01 (midnight), local time
            unless followed by Z or +hh:mm.

            Exit codes:
              0   success
              1   refused: files in the way (without --overwrite), no such snapshot or path, or another failure
              23  some files failed (the rest is restored)
              64  usage or configuration error
              69  no server found
              75  connection lost (run again to continue)
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
    @Option(help: "The folder to restore into (created if missing).") var to: String
    @Option(help: "The id of the snapshot to restore (see `snapshots`).") var snapshot: String?
    @Option(help: "Restore the newest snapshot taken at or before this time.") var at: String?
    @Flag(help: "Replace files that exist in the folder (equal files are kept, changed large ones patched).")
    var overwrite = false
    @Flag(help: "Print the summary as one JSON object.") var json = false
    @Argument(help: "Files or folders of the snapshot to restore (default: all).") var paths: [String] = []

    /// The paths as the snapshot names them: a folder typed with a trailing slash (as a shell
    /// completes it) or a path starting with `./` means the same entry.
    var requestedPaths: [String] {
        paths.map { path in
            var path = Substring(path)
            while path.hasPrefix("./") { path = path.dropFirst(2) }
            while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
            return String(path)
        }
    }

    func validate() throws {
        guard snapshot == nil || at == nil else { throw ValidationError("give --snapshot or --at, not both") }
        if let at, RestoreTime.parse(at) == nil {
            throw ValidationError("--at takes a time like 2026-12-01T09:00, 2026-12-01T09:00:30Z or 2026-12-01")
        }
        guard paths.count <= Restore.maxPaths else { throw ValidationError("at most \(Restore.maxPaths) paths") }
        do {
            if let id { _ = try ClientID(validating: id) }
            for path in requestedPaths { _ = try RelativePath(validating: path) }
        } catch let error as FileSyncError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        HeapTuning.keepTransferBuffers()
        connection.bootstrapLogging()
        let target = try HistoryCommandTarget(connection: connection, id: id, profile: profile)
        let code: ClientExitCode
        do {
            let request = Restore(snapshot: snapshot, at: at.flatMap { RestoreTime.parse($0) }, paths: requestedPaths)
            let options = try target.connection.options(clientID: target.id)
            let folder = try RestoreFolder(path: URL(fileURLWithPath: to).standardizedFileURL.path)
            let session = HistorySession(options: options, kind: .restore, logger: Logger(label: "filesync-client"))
            // A lost connection starts a new session, which continues from the journal.
            var (summary, server) = try await session.run { channel, codecs in
                try await RestoreClient(folder: folder, overwrite: overwrite, codecs: codecs)
                    .run(request, over: channel)
            }
            summary.server = server.description
            report(summary)
            code = !summary.conflicts.isEmpty ? .runtimeFailure : summary.failed.isEmpty ? .success : .someFilesFailed
        } catch {
            let (failure, message) = Self.classify(error)
            Self.fail(message)
            throw ExitCode(failure.rawValue)
        }
        if code != .success { throw ExitCode(code.rawValue) }
    }

    private func report(_ summary: RestoreSummary) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(summary) { print(String(decoding: data, as: UTF8.self)) }
        } else if summary.conflicts.isEmpty {
            var line =
                "filesync: \(Plural.count(summary.restored, "file")) restored, \(summary.skipped) already in place, "
            if summary.symlinks > 0 { line += "\(Plural.count(summary.symlinks, "symlink")) made, " }
            if summary.hardlinks > 0 { line += "\(Plural.count(summary.hardlinks, "hard link")) made, " }
            if summary.specials > 0 { line += "\(Plural.count(summary.specials, "special file")) made, " }
            if !summary.specialsSkipped.isEmpty {
                let skipped = Plural.count(summary.specialsSkipped.count, "socket or device", "sockets or devices")
                line += "\(skipped) skipped, "
            }
            line += "\(summary.failed.count) failed; \(SnapshotsClient.byteCount(summary.bytesReceived)) received"
            if summary.bytesReused > 0 { line += ", \(SnapshotsClient.byteCount(summary.bytesReused)) reused" }
            line += " in \(String(format: "%.2f", summary.seconds)) s from snapshot \(summary.snapshot ?? "?")"
            if let failed = summary.snapshotFailed, failed > 0 {
                line += " (a partial snapshot: \(failed) file\(failed == 1 ? "" : "s") of that backup failed)"
            }
            print(line)
        }
        fflush(nil)
        if !summary.conflicts.isEmpty {
            let files = summary.conflicts.count == 1 ? "1 file exists" : "\(summary.conflicts.count) files exist"
            Self.fail("refused: \(files) in \(to) (use --overwrite to replace them):")
            for path in summary.conflicts.prefix(100) { Self.fail("  \(path)") }
            if summary.conflicts.count > 100 { Self.fail("  … and \(summary.conflicts.count - 100) more") }
        }
        for failure in summary.failed {
            Self.fail("failed: \(failure.path): \(failure.error?.message ?? "unknown error")")
        }
    }

    static func fail(_ message: String) {
        ClientLines.say(message)
    }

    /// The exit code and message of an error that ended the command: connection and authentication
    /// failures (``BackupFailure``, from ``HistorySession``) as a backup maps them.
    static func classify(_ error: any Error) -> (ClientExitCode, String) {
        switch error {
        case let failure as RestoreFailure:
            switch failure {
            case .refused: return (.runtimeFailure, failure.description)
            case .connectionClosed: return (.connectionLost, failure.description)
            }
        case let error as FileSyncError where [.invalidSetting, .invalidClientID].contains(error.code):
            return (.usage, error.message)
        case let error as FileSyncError: return (.runtimeFailure, error.message)
        default: return ClientCommand.classify(error)
        }
    }
}
