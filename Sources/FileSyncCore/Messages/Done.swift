/// Client → server: every task has been sent or abandoned.
public struct Done: Codable, Sendable, Equatable {
    /// With `keepExcluded` in force and `HELLO.mirrorDeletionsKeepingExcluded`: the paths the
    /// client's exclusion rules left out in this run, which the deletions keep with everything below
    /// them (Protocol.md §6.5). Sent only now, after both peers proved the secret. At most
    /// ``ProtocolLimits/maxKeptPaths``.
    public var excluded: [String]?

    public init(excluded: [String]? = nil) {
        self.excluded = excluded
    }
}
