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
        var scan: SourceScanner.Result?
        if let previous, let changes {
            do {
                let (result, listed, folders) = try scanner.rescan(previous: previous, changes: changes)
                logger.info("rescanned \(listed) of \(folders) folders", metadata: ["source": "\(scanner.source)"])
                scan = result
            } catch let fallback as RescanMerge.Fallback {
                logger.info("rescanning every folder", metadata: ["reason": "\(fallback.reason)"])
            }
        }
        if scan == nil {
            let result = try await scanner.scanUnresolved()
            let folders = 1 + result.entries.indices.count(where: { result.entries.type(at: $0) == .dir })
            logger.info("scanned all \(folders) folders", metadata: ["source": "\(scanner.source)"])
            scan = result
        }
        var resolved = scan!
        scans.withLock { $0[scanner.source] = resolved }
        resolved.entries.resolveHardLinks()
        return resolved
    }
}
