/// Server → client: another client is backing up; wait. Repeated when the position changes and as a keepalive.
public struct Queued: Codable, Sendable, Equatable {
    /// 1 means next in line.
    public var position: Int
    /// The client may consider the connection dead if no message arrives for three times this long.
    public var keepaliveSeconds: Int

    public init(position: Int, keepaliveSeconds: Int) {
        self.position = position
        self.keepaliveSeconds = keepaliveSeconds
    }
}
