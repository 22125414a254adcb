import FileSyncCore
import Foundation
import Logging

extension BackupClient {
    /// With `--delete` and no `--delete-excluded`: as rsync's `--delete`, what the rules excluded is
    /// kept on the server (``BackupOptions/keepingExcluded``, and the rules themselves in
    /// ``BackupOptions/excludeRules`` for what is gone from the source), the rest mirrored; a run
    /// that excluded more than the server can be told of mirrors no deletion at all.
    func keepExcluded(_ options: inout BackupOptions, scan: SourceScanner.Result, summary: inout BackupSummary) {
        var rules = Self.ruleSets(options, scan: scan)
        if let sets = rules, !Self.fits(sets) {
            // Too many to send: only the excluded paths are kept, as before excludeRules.
            logger.info("the exclusion rules are too large to send; only the excluded paths that exist are kept")
            rules = nil
        }
        guard options.mirrorDeletions && !options.deleteExcluded && (summary.excluded > 0 || rules != nil) else {
            return
        }
        let paths = scan.excludedPaths + scan.tooLarge.map(\.path)
        if let why = Self.unsendable(paths, rules: rules, excluded: summary.excluded) {
            let excluded = Plural.count(summary.excluded, "entry", "entries")
            let reason = "\(excluded) excluded here, \(why); nothing was deleted (--delete-excluded deletes them too)"
            summary.deletionsSkipped = reason
            logger.warning(Logger.Message(stringLiteral: reason))
            options.mirrorDeletions = false
        } else {
            options.keepingExcluded = paths
            options.excludeRules = rules
        }
    }

    /// Why `paths` (and `rules`) cannot go in `DONE`, or `nil` when they can.
    private static func unsendable(_ paths: [String], rules: [ExcludeRuleSet]?, excluded: Int) -> String? {
        // Each must be a path the server takes, and all of them fit in DONE.
        let valid = paths.allSatisfy { (try? RelativePath(validating: $0)) != nil }
        let bytes = paths.reduce(0) { $0 + $1.utf8.count + 8 }
        if excluded > ProtocolLimits.maxKeptPaths {
            return "too many to name to the server (at most \(ProtocolLimits.maxKeptPaths))"
        } else if !valid {
            return "some with a path the protocol cannot carry"
        } else if paths.count != excluded {
            return "not all of them named by the scan"
        } else if bytes >= ProtocolLimits.maxControlPayload / 2 {
            return "their paths too long to fit in one message to the server"
        }
        return nil
    }

    /// Whether `sets` are within what a server takes (``ExcludeRuleSet``'s limits) and, as JSON
    /// (escapes included), within a quarter of a control message.
    private static func fits(_ sets: [ExcludeRuleSet]) -> Bool {
        guard sets.count <= ExcludeRuleSet.maxSets,
            sets.reduce(0, { $0 + $1.text.utf8.count }) <= ExcludeRuleSet.maxTotalBytes,
            let encoded = try? JSONEncoder().encode(sets)
        else { return false }
        return encoded.count <= ProtocolLimits.maxControlPayload / 4
    }

    /// The run's exclusion rules as `DONE.excludeRules` carries them: each source's root rules
    /// (`--exclude`, `--exclude-from`) and every `.filesyncignore` the scan read; `nil` when there
    /// are none.
    static func ruleSets(_ options: BackupOptions, scan: SourceScanner.Result) -> [ExcludeRuleSet]? {
        let root = options.exclusion.rootRules
        guard !root.patterns.isEmpty || !scan.ruleTexts.isEmpty else { return nil }
        let sources = options.sources?.members.map(\.name) ?? [""]
        let roots = sources.map { ExcludeRuleSet(folder: $0, root: true, text: root.text) }
        let files = scan.ruleTexts.sorted { $0.key < $1.key }.map { ExcludeRuleSet(folder: $0.key, text: $0.value) }
        return roots + files
    }
}
