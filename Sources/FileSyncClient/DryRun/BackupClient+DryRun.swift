import FileSyncCore

extension BackupClient {
    /// A dry run (`--dry-run`): scans, connects, authenticates, sends the manifest and reports what
    /// the server says a backup would do; sends no file content and changes nothing on the server.
    public func dryRun(stats: TransferStats = TransferStats()) async throws -> DryRunReport {
        let clock = ContinuousClock()
        let start = clock.now
        var options = options
        options.dryRun = true
        var summary = BackupSummary()
        let scan = try await scanSource(&options, summary: &summary)
        let retries = SessionRetries(options: options, logger: logger, stats: stats, start: start)
        var server: String?
        let (last, _) = try await retries.run { endpoint, announced in
            server = endpoint.description
            let session = ClientSession(
                endpoint: endpoint, announcedFingerprint: announced, options: options, scan: scan,
                counter: WireCounter(), stats: stats, logger: logger)
            return try await session.run()
        }
        var report = last.preview ?? DryRunReport()
        report.server = server
        report.serverName = last.serverName
        report.scanned = summary.scanned
        report.unchanged = max(0, summary.scanned - report.filesToSend - report.filesRejected)
        report.excluded = summary.excluded
        report.mirrorDeletions = options.mirrorDeletions && last.deletionsWithheld == nil
        report.deletionsSkipped = summary.deletionsSkipped ?? last.deletionsWithheld
        report.seconds = (clock.now - start).inSeconds
        return report
    }
}
