/// Client → server: every task has been sent or abandoned.
public struct Done: Codable, Sendable, Equatable {
    public init() {}
}
