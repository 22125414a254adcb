import Foundation
import Testing

@testable import FileSyncServer

@Suite("Retention policy") struct RetentionPolicyTests {
    /// Monday 2026-11-30 00:00:00 UTC.
    static let monday: Double = 1_795_996_800
    static let hour: Double = 3600
    static let day: Double = 86_400

    /// Snapshots at `offsets` seconds after ``monday``, in order, named `s<index>`.
    static func snapshots(_ offsets: [Double], protected: Set<Int> = []) -> [SnapshotRecord] {
        offsets.enumerated().map { index, offset in
            SnapshotRecord(
                id: "s\(index)", sequence: index + 1,
                time: SnapshotRecord.format(Date(timeIntervalSince1970: monday + offset)),
                rootTree: String(repeating: "0", count: 64), files: 10, bytes: 10, added: 0, changed: 0, deleted: 0,
                complete: true, protected: protected.contains(index) ? "test" : nil)
        }
    }

    static func kept(_ policy: RetentionPolicy, _ snapshots: [SnapshotRecord]) -> [String] {
        policy.apply(to: snapshots, now: Date(timeIntervalSince1970: monday + 400 * day)).keep.map(\.id)
    }

    static let none = RetentionPolicy(
        keepLast: 0, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0)

    @Test("keep-last keeps the newest N")
    func keepLast() {
        var policy = Self.none
        policy.keepLast = 3
        #expect(Self.kept(policy, Self.snapshots([0, 10, 20, 30, 40])) == ["s2", "s3", "s4"])
    }

    @Test("keep-daily keeps the newest of each of the N most recent days that hold a snapshot")
    func keepDaily() {
        var policy = Self.none
        policy.keepDaily = 2
        let snapshots = Self.snapshots([
            10 * Self.hour, 12 * Self.hour, Self.day + 9 * Self.hour, 5 * Self.day, 5 * Self.day + 20 * Self.hour,
        ])
        #expect(Self.kept(policy, snapshots) == ["s2", "s4"])
        let result = policy.apply(to: snapshots, now: Date())
        #expect(result.remove.map(\.id) == ["s0", "s1", "s3"])
        #expect(result.keep.last?.reasons == ["newest", "daily"])
    }

    @Test("keep-weekly and keep-monthly skip periods without snapshots (ISO weeks, UTC)")
    func weeklyAndMonthlyWithGaps() {
        // Week 1: Monday and Wednesday; then 4 weeks later (Tuesday) and 8 weeks later (Friday).
        let snapshots = Self.snapshots([0, 2 * Self.day, 29 * Self.day, 60 * Self.day])
        var weekly = Self.none
        weekly.keepWeekly = 3
        #expect(Self.kept(weekly, snapshots) == ["s1", "s2", "s3"])
        var monthly = Self.none
        monthly.keepMonthly = 2
        // s0, s1: 2026-11; s2: 2026-12-29; s3: 2027-01-29.
        #expect(Self.kept(monthly, snapshots) == ["s2", "s3"])
        var yearly = Self.none
        yearly.keepYearly = 5
        #expect(Self.kept(yearly, snapshots) == ["s2", "s3"])
    }

    @Test("the defaults over five days of hourly runs keep the last 48 hours and one per earlier day")
    func defaultsOverHourlyRuns() {
        let snapshots = Self.snapshots((0..<120).map { Double($0) * Self.hour })
        let expected = ([23, 47, 71] + Array(72..<120)).map { "s\($0)" }
        #expect(Self.kept(.defaults, snapshots) == expected)
    }

    @Test("the newest and protected snapshots are always kept; protection can be lifted by hand")
    func newestAndProtected() {
        let snapshots = Self.snapshots([0, 10, 20, 30], protected: [1])
        #expect(Self.kept(Self.none, snapshots) == ["s1", "s3"])
        let lifted = Self.none.apply(to: snapshots, now: Date(), honoringProtection: false)
        #expect(lifted.keep.map(\.id) == ["s3"])
    }

    @Test("a run that changed or deleted more than half the files protects the snapshot before it")
    func ransomwareGuard() {
        var snapshots = Self.snapshots([0, 10])
        snapshots[1].changed = 4
        snapshots[1].deleted = 2
        let target = RetentionPolicy.protectionTarget(latest: snapshots[1], previous: snapshots[0])
        #expect(target?.id == "s0")
        snapshots[1].deleted = 1
        #expect(RetentionPolicy.protectionTarget(latest: snapshots[1], previous: snapshots[0]) == nil)
        #expect(RetentionPolicy.protectionTarget(latest: snapshots[0], previous: nil) == nil)
    }

    @Test("in a series of runs that each change most files, only the snapshot before the series is protected")
    func ransomwareGuardProtectsOnlyBeforeTheSeries() {
        var snapshots = Self.snapshots([0, 10, 20, 30])
        for index in 1...3 { snapshots[index].changed = 8 }
        // s1 is made by a mass change of s0: the run after it does not protect it, nor s2.
        #expect(
            RetentionPolicy.protectionTarget(latest: snapshots[1], previous: snapshots[0])?.id == "s0")
        #expect(
            RetentionPolicy.protectionTarget(
                latest: snapshots[2], previous: snapshots[1], beforePrevious: snapshots[0]) == nil)
        #expect(
            RetentionPolicy.protectionTarget(
                latest: snapshots[3], previous: snapshots[2], beforePrevious: snapshots[1]) == nil)
        // With nothing protected before the series (pruned by hand, or never judged), s2 is protected.
        #expect(
            RetentionPolicy.protectionTarget(
                latest: snapshots[3], previous: snapshots[2], beforePrevious: snapshots[1], earlierProtected: false)?
                .id == "s2")
        // After a calm run (s2 changed 1 file of s1), the next mass change protects s2.
        snapshots[2].changed = 1
        #expect(
            RetentionPolicy.protectionTarget(
                latest: snapshots[3], previous: snapshots[2], beforePrevious: snapshots[1])?.id == "s2")
    }

    @Test("a run that could not read some old trees counts the files it could not compare as changed")
    func ransomwareGuardUnderUnreadableTrees() {
        var snapshots = Self.snapshots([0, 10])
        // Of 10 files, 6 lay under an unreadable tree: found again, they counted as added; 1 changed.
        (snapshots[1].added, snapshots[1].changed) = (6, 1)
        #expect(RetentionPolicy.protectionTarget(latest: snapshots[1], previous: snapshots[0]) == nil)
        let target = RetentionPolicy.protectionTarget(
            latest: snapshots[1], previous: snapshots[0], comparedInFull: false)
        #expect(target?.id == "s0")
        #expect(target?.reason.contains("could not compare 6") == true, "\(target?.reason ?? "")")
        // Under an unreadable tree of 3 files, 1 changed elsewhere: 4 of 10, no protection.
        (snapshots[1].added, snapshots[1].changed) = (3, 1)
        #expect(
            RetentionPolicy.protectionTarget(latest: snapshots[1], previous: snapshots[0], comparedInFull: false)
                == nil)
        // Files deleted from a readable tree are compared: 3 unreadable + 3 deleted of 10.
        (snapshots[1].files, snapshots[1].added, snapshots[1].changed, snapshots[1].deleted) = (7, 3, 0, 3)
        let deleted = RetentionPolicy.protectionTarget(
            latest: snapshots[1], previous: snapshots[0], comparedInFull: false)
        #expect(deleted?.id == "s0")
    }
}
