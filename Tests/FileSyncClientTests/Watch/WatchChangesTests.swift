import FileSyncClient
import Testing

@Suite("Watch changes")
struct WatchChangesTests {
    @Test("folders are noted relative to their source; one outside it calls for a full scan")
    func relativeFolders() {
        var changes = WatchChanges(full: false)
        changes.changed(folder: "/src", in: "/src")
        changes.changed(folder: "/src/a/b", in: "/src")
        changes.appeared(folder: "/src/a/new", in: "/src")
        changes.changed(folder: "/other/x", in: "/other")
        #expect(changes.changes(of: "/src") == FolderChanges(changed: ["", "a/b"], appeared: ["a/new"]))
        #expect(changes.changes(of: "/other") == FolderChanges(changed: ["x"]))
        #expect(changes.changes(of: "/quiet") == FolderChanges(), "nothing seen there: nothing listed")
        changes.changed(folder: "/srcx/a", in: "/src")
        #expect(changes.isFull)
        #expect(changes.changes(of: "/src") == nil)
    }

    @Test("the first run, the run after an overflow and every run of an incomplete watch scan everything")
    func fullScans() {
        let trigger = WatchTrigger(
            schedule: WatchSchedule(
                delay: .seconds(1), deletionDelay: .seconds(1), rescanInterval: .seconds(3600), start: .now))
        #expect(trigger.runStarted().isFull, "the first run")
        trigger.runEnded(nextSync: nil)
        trigger.note(changed: "/src/a", in: "/src")
        let second = trigger.runStarted()
        #expect(!second.isFull)
        #expect(second.changes(of: "/src") == FolderChanges(changed: ["a"]))
        #expect(trigger.runStarted().changes(of: "/src") == FolderChanges(), "taken by the run before")
        trigger.note(changed: "/src/a", in: "/src")
        trigger.scanEverythingNext()
        #expect(trigger.runStarted().isFull, "after an overflow")
        #expect(!trigger.runStarted().isFull)
        trigger.scanEverythingAlways()
        #expect(trigger.runStarted().isFull && trigger.runStarted().isFull, "once a folder is not watched")
    }

    @Test("a full scan is due at the first run, then a rescan interval after the last full scan started")
    func fullScanDue() {
        let start = ContinuousClock.now
        var schedule = WatchSchedule(
            delay: .seconds(10), deletionDelay: .seconds(60), rescanInterval: .seconds(3600), start: start)
        #expect(schedule.fullScanDue(at: start))
        schedule.fullScanStarted(at: start)
        // Changes every few minutes do not put it off.
        #expect(!schedule.fullScanDue(at: start + .seconds(600)))
        #expect(!schedule.fullScanDue(at: start + .seconds(3599)))
        #expect(schedule.fullScanDue(at: start + .seconds(3600)))
    }
}
