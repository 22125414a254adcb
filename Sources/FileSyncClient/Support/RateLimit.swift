/// Paces sending to at most `bytesPerSecond` (`--bwlimit`), by sleeping when ahead of schedule.
public struct RateLimit {
    let bytesPerSecond: Int64
    private let clock = ContinuousClock()
    private var start: ContinuousClock.Instant?
    private var sent: Int64 = 0

    init(bytesPerSecond: Int64) {
        self.bytesPerSecond = max(1, bytesPerSecond)
    }

    /// Accounts for `count` bytes and waits until sending them keeps within the rate.
    mutating func pace(_ count: Int) async throws {
        let begin = start ?? clock.now
        start = begin
        sent += Int64(count)
        let due = begin + .milliseconds(sent * 1000 / bytesPerSecond)
        if due > clock.now { try await clock.sleep(until: due) }
    }

    /// Parses `500K`, `20M`, `1G` or a plain number of bytes per second.
    public static func parse(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        let trimmed = text.uppercased()
        if let unit = trimmed.last.flatMap({ units[$0] }) {
            return Int64(trimmed.dropLast()).map { $0 * unit }.flatMap { $0 > 0 ? $0 : nil }
        }
        return Int64(trimmed).flatMap { $0 > 0 ? $0 : nil }
    }
}
