import FileSyncCore
import Foundation

/// Which snapshots to keep, with restic's semantics: pure, no disk access.
///
/// Snapshots are taken newest first. `keepLast` keeps the newest N. Each calendar rule (hourly,
/// daily, weekly, monthly, yearly; UTC; ISO weeks) keeps the newest snapshot of each of the N most
/// recent periods **that hold a snapshot** (empty periods do not count). A snapshot is kept when
/// any rule keeps it, with every rule's reason. On top of that the newest snapshot is always kept,
/// and so is every ``SnapshotRecord/protected`` one (unless the admin's prune asks otherwise).
public struct RetentionPolicy: Sendable, Equatable {
    public var keepLast: Int
    public var keepHourly: Int
    public var keepDaily: Int
    public var keepWeekly: Int
    public var keepMonthly: Int
    public var keepYearly: Int

    public init(keepLast: Int, keepHourly: Int, keepDaily: Int, keepWeekly: Int, keepMonthly: Int, keepYearly: Int) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
    }

    /// The defaults, kopia's: 10 latest, 48 hourly, 14 daily, 8 weekly, 24 monthly, 5 yearly. An
    /// hourly cron run then keeps every run of the last two days (the window in which a mistake is
    /// usually noticed), a daily point for two weeks, then thinner points for two years and five
    /// yearly ones: about 100 snapshots at most, each costing only what changed.
    public static let defaults = RetentionPolicy(
        keepLast: 10, keepHourly: 48, keepDaily: 14, keepWeekly: 8, keepMonthly: 24, keepYearly: 5)

    /// A snapshot's fate and why.
    struct Decision: Sendable, Equatable {
        var id: String
        /// Empty for a snapshot to remove.
        var reasons: [String]
    }

    /// Splits `snapshots` into those to keep and those to remove (each oldest first).
    ///
    /// - Parameters:
    ///   - now: kept for callers that log it; the rules count periods that hold snapshots, so the
    ///     result does not depend on it (as in restic).
    ///   - honoringProtection: `false` only for a prune the admin runs by hand and asks to lift it.
    func apply(
        to snapshots: [SnapshotRecord], now: Date, honoringProtection: Bool = true
    ) -> (keep: [Decision], remove: [Decision]) {
        let newestFirst = snapshots.sorted { ($0.sequence, $0.id) > ($1.sequence, $1.id) }
        var rules = calendarRules()
        var lastLeft = keepLast
        var keep: [Decision] = []
        var remove: [Decision] = []
        for (position, snapshot) in newestFirst.enumerated() {
            var reasons: [String] = []
            if position == 0 { reasons.append("newest") }
            if lastLeft > 0 {
                lastLeft -= 1
                reasons.append("last")
            }
            for index in rules.indices where rules[index].left > 0 {
                let value = rules[index].bucket(snapshot.date)
                if value != rules[index].last {
                    rules[index].last = value
                    rules[index].left -= 1
                    reasons.append(rules[index].name)
                }
            }
            if honoringProtection, let reason = snapshot.protected { reasons.append("protected: \(reason)") }
            let decision = Decision(id: snapshot.id, reasons: reasons)
            if reasons.isEmpty { remove.append(decision) } else { keep.append(decision) }
        }
        return (keep.reversed(), remove.reversed())
    }

    /// One calendar rule while it is applied.
    private struct Rule {
        var name: String
        var left: Int
        var last: Int?
        var bucket: (Date) -> Int
    }

    private func calendarRules() -> [Rule] {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func parts(_ date: Date, _ units: Set<Calendar.Component>) -> DateComponents {
            calendar.dateComponents(units, from: date)
        }
        return [
            Rule(name: "hourly", left: keepHourly, last: nil) { date in
                let c = parts(date, [.year, .month, .day, .hour])
                return ((c.year! * 100 + c.month!) * 100 + c.day!) * 100 + c.hour!
            },
            Rule(name: "daily", left: keepDaily, last: nil) { date in
                let c = parts(date, [.year, .month, .day])
                return (c.year! * 100 + c.month!) * 100 + c.day!
            },
            Rule(name: "weekly", left: keepWeekly, last: nil) { date in
                let c = parts(date, [.yearForWeekOfYear, .weekOfYear])
                return c.yearForWeekOfYear! * 100 + c.weekOfYear!
            },
            Rule(name: "monthly", left: keepMonthly, last: nil) { date in
                let c = parts(date, [.year, .month])
                return c.year! * 100 + c.month!
            },
            Rule(name: "yearly", left: keepYearly, last: nil) { date in parts(date, [.year]).year! },
        ]
    }

    // MARK: - The ransomware guard

    /// The protection to set after a run, from the issue: when the run that made `latest` changed
    /// or deleted more than half of the files of `previous` (the snapshot before it), `previous` is
    /// the newest snapshot that predates the damage and must be kept until an admin prunes by hand.
    ///
    /// A run that could not read some of `previous`'s trees (`comparedInFull` false) cannot tell
    /// what happened to the files listed there: every file of `previous` it did not find changed,
    /// unchanged or deleted in a readable tree counts as changed, so that damage to the history
    /// never hides a mass change from the guard.
    ///
    /// Only the snapshot that predates a series of such runs is protected: when `previous` was made
    /// by one itself (it changed or deleted more than half of the files of `beforePrevious`) and a
    /// snapshot before it is protected already (`earlierProtected`), it holds no state from before
    /// the damage. So a client whose files mostly change on every run (one dump file) keeps one
    /// protected snapshot, not every one of them. (When none is protected, as after a prune by
    /// hand, `previous` is protected whatever made it.)
    ///
    /// - Returns: the id of the snapshot to protect and the reason to record (and log), or `nil`.
    static func protectionTarget(
        latest: SnapshotRecord, previous: SnapshotRecord?, beforePrevious: SnapshotRecord? = nil,
        earlierProtected: Bool = true, comparedInFull: Bool = true
    ) -> (id: String, reason: String)? {
        guard let previous, previous.files > 0, previous.protected == nil else { return nil }
        if let beforePrevious, earlierProtected, (previous.changed + previous.deleted) * 2 > beforePrevious.files {
            return nil
        }
        // The files of `previous` the run compared: those it found again (changed or not) and those it
        // found deleted. A file found again under an unreadable tree counted as added.
        let compared = latest.files - latest.added + latest.deleted
        let uncompared = comparedInFull ? 0 : max(0, previous.files - compared)
        let touched = latest.changed + latest.deleted + uncompared
        guard touched * 2 > previous.files else { return nil }
        let ofAll = "of its \(Plural.count(previous.files, "file"))"
        guard uncompared > 0 else {
            return (previous.id, "snapshot \(latest.id) changed or deleted \(touched) \(ofAll)")
        }
        return (
            previous.id,
            "snapshot \(latest.id) changed or deleted \(latest.changed + latest.deleted) and could not compare "
                + "\(uncompared) (unreadable trees) \(ofAll)"
        )
    }
}
