extension BackupOptions {
    /// Locks every source folder of the run (``SourceLock``), so that no two runs back up one
    /// folder at once, whichever other folders they also back up.
    public func lockSources() throws -> [SourceLock] {
        try (sources?.members.map(\.path) ?? [source]).map { try SourceLock(source: $0) }
    }
}
