import FileSyncCore
import Logging

extension BackupClient {
    /// With `--delete` and no `--delete-excluded`: as rsync's `--delete`, what the rules excluded is
    /// kept on the server (``BackupOptions/keepingExcluded``), the rest mirrored; a run that
    /// excluded more than the server can be told of mirrors no deletion at all.
    func keepExcluded(_ options: inout BackupOptions, scan: SourceScanner.Result, summary: inout BackupSummary) {
        if options.mirrorDeletions && summary.excluded > 0 && !options.deleteExcluded {
            // As rsync's --delete: what the rules excluded is kept on the server, the rest mirrored.
            let paths = scan.excludedPaths + scan.tooLarge.map(\.path)
            // Each must be a path the server takes, and all of them fit in DONE.
            let valid = paths.allSatisfy { (try? RelativePath(validating: $0)) != nil }
            let bytes = paths.reduce(0) { $0 + $1.utf8.count + 8 }
            let excluded = Plural.count(summary.excluded, "entry", "entries")
            let why: String? =
                if summary.excluded > ProtocolLimits.maxKeptPaths {
                    "too many to name to the server (at most \(ProtocolLimits.maxKeptPaths))"
                } else if !valid {
                    "some with a path the protocol cannot carry"
                } else if paths.count != summary.excluded {
                    "not all of them named by the scan"
                } else if bytes >= ProtocolLimits.maxControlPayload / 2 {
                    "their paths too long to fit in one message to the server"
                } else {
                    nil
                }
            if let why {
                let reason =
                    "\(excluded) excluded here, \(why); nothing was deleted (--delete-excluded deletes them too)"
                summary.deletionsSkipped = reason
                logger.warning(Logger.Message(stringLiteral: reason))
                options.mirrorDeletions = false
            } else {
                options.keepingExcluded = paths
            }
        }
    }
}
