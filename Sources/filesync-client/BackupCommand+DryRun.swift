import FileSyncClient
import Foundation
import Logging

extension BackupCommand {
    /// `--dry-run`: what a backup would do, one line per entry and a total (or one JSON object);
    /// nothing is sent or changed. Exit 0 whatever the plan holds.
    func preview(logger: Logger) async throws -> ClientExitCode {
        let options = try makeOptions()
        let locks = try options.lockSources()
        defer { withExtendedLifetime(locks) {} }
        let report = try await BackupClient(options: options, logger: logger).dryRun()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for line in report.lines { print(line) }
            print(report.totalLine)
        }
        fflush(nil)
        if let reason = report.deletionsSkipped { ClientCommand.fail("deletions would not be applied: \(reason)") }
        return .success
    }
}
