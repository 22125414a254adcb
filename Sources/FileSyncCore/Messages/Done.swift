/// Client → server: every task has been sent or abandoned.
public struct Done: Codable, Sendable, Equatable {
    /// With `keepExcluded` in force and `HELLO.mirrorDeletionsKeepingExcluded`: the paths the
    /// client's exclusion rules left out in this run, which the deletions keep with everything below
    /// them (Protocol.md §6.5). Sent only now, after both peers proved the secret. At most
    /// ``ProtocolLimits/maxKeptPaths``.
    public var excluded: [String]?
    /// With `excludeRules` in force as well: the exclusion rules the run used, so that the
    /// deletions also keep the stored paths they exclude (Protocol.md §6.5). At most
    /// ``ExcludeRuleSet/maxSets`` sets of ``ExcludeRuleSet/maxTotalBytes`` in all.
    public var excludeRules: [ExcludeRuleSet]?

    public init(excluded: [String]? = nil, excludeRules: [ExcludeRuleSet]? = nil) {
        self.excluded = excluded
        self.excludeRules = excludeRules
    }
}
