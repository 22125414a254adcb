import FileSyncCore
import Logging
import Synchronization

/// What `--watch` keeps between runs: the last scan of each source, so that a run started by the
/// watch lists only the folders that changed (``RescanMerge``) and reuses the rest. The manifest
/// still describes the whole tree.
public final class ScanMemory: Sendable {
    /// The last scan of each source (by its path), links not resolved.
    private let scans = Mutex<[String: SourceScanner.Result]>([:])

    public init() {}

    /// Scans with `scanner`: only the folders in `changes` when a previous scan of the source is
    /// kept and `changes` is given, else everything (and everything too when the changes do not
    /// fit the previous scan). Returns the scan with its hard links resolved.
    func scan(_ scanner: SourceScanner, changes: FolderChanges?, logger: Logger) async throws -> SourceScanner.Result {
        // Forgotten until this scan succeeds: after an error, the next one scans everything.
        let previous = scans.withLock { $0.removeValue(forKey: scanner.source) }
        var scan: SourceScanner.Result
        if let previous, let changes, let partial = Self.rescan(scanner, previous: previous, changes, logger: logger) {
            scan = partial
        } else {
            scan = try await scanner.scanUnresolved()
            let folders = 1 + scan.entries.indices.count(where: { scan.entries.type(at: $0) == .dir })
            logger.info("scanned all \(folders) folders", metadata: ["source": "\(scanner.source)"])
        }
        scans.withLock { [scan] in $0[scanner.source] = scan }
        scan.entries.resolveHardLinks()
        return scan
    }

    /// The partial rescan, or `nil` when the changes do not fit the previous scan (a full scan is
    /// then needed).
    private static func rescan(
        _ scanner: SourceScanner, previous: SourceScanner.Result, _ changes: FolderChanges, logger: Logger
    ) -> SourceScanner.Result? {
        do {
            let (result, listed, folders) = try scanner.rescan(previous: previous, changes: changes)
            logger.info("rescanned \(listed) of \(folders) folders", metadata: ["source": "\(scanner.source)"])
            return result
        } catch let fallback as RescanMerge.Fallback {
            logger.info("rescanning every folder", metadata: ["reason": "\(fallback.reason)"])
        } catch {
            // The source itself cannot be opened: the full scan says so.
            logger.info("rescanning every folder", metadata: ["reason": "\(error)"])
        }
        return nil
    }
}
