import Foundation
import Testing

@testable import FileSyncSystem

@Suite("Folder watcher")
struct FolderWatcherTests {
    /// Reads events until `expected` comes (true) or the stream ends (false).
    private static func sees(
        _ expected: FolderWatcher.Event, in events: inout AsyncStream<FolderWatcher.Event>.Iterator
    ) async -> Bool {
        while let event = await events.next() {
            if event == expected { return true }
        }
        return false
    }

    @Test("a file created, a folder created (then watched), a rename, a deletion: each is seen in its folder")
    func eventsByFolder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("watcher-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/old", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(root: root)
        var events = watcher.events.makeAsyncIterator()
        // Bounds the test: stopping the watch ends the stream, so a missing event fails, never hangs.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            watcher.stop()
        }
        defer { watchdog.cancel() }

        #expect(FileManager.default.createFile(atPath: root + "/old/a.txt", contents: Data("a".utf8)))
        #expect(await Self.sees(.changed(folder: root + "/old"), in: &events))
        try FileManager.default.createDirectory(atPath: root + "/new", withIntermediateDirectories: false)
        #expect(await Self.sees(.changed(folder: root), in: &events))
        #expect(await Self.sees(.appeared(folder: root + "/new"), in: &events), "its contents are to be walked")
        // The new folder is watched as soon as it is seen.
        #expect(FileManager.default.createFile(atPath: root + "/new/b.txt", contents: Data("b".utf8)))
        #expect(await Self.sees(.changed(folder: root + "/new"), in: &events))
        try FileManager.default.moveItem(atPath: root + "/new", toPath: root + "/renamed")
        #expect(await Self.sees(.deleted(folder: root), in: &events))
        #expect(await Self.sees(.appeared(folder: root + "/renamed"), in: &events))
        // Watched under its new name.
        #expect(FileManager.default.createFile(atPath: root + "/renamed/c.txt", contents: Data("c".utf8)))
        #expect(await Self.sees(.changed(folder: root + "/renamed"), in: &events))
        try FileManager.default.removeItem(atPath: root + "/old/a.txt")
        #expect(await Self.sees(.deleted(folder: root + "/old"), in: &events))

        watcher.stop()
        #expect(await !Self.sees(.overflow, in: &events), "the stream ends after stop")
    }

    @Test("events left unread past the kernel's queue length (the reader paused) come out as an overflow")
    func realOverflow() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("watcher-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/watched", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pause = root + "/pause"
        #expect(FileManager.default.createFile(atPath: pause, contents: nil))
        let watcher = try FolderWatcher(root: root + "/watched", pausedWhile: pause)
        var events = watcher.events.makeAsyncIterator()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            watcher.stop()
        }
        defer { watchdog.cancel() }
        let queue =
            Int(
                (try String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
                    .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 16_384
        // Created and closed after writing: at least two events a file.
        for index in 0...queue {
            let fd = open(root + "/watched/f\(index)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0)
            close(fd)
        }
        try FileManager.default.removeItem(atPath: pause)
        #expect(await Self.sees(.overflow, in: &events))
        watcher.stop()
    }

    @Test("a queue overflow is reported as such; events of a watch that is gone are dropped")
    func overflowAndIgnored() {
        var table = WatchTable(inotify: -1, root: Array("/nowhere".utf8))
        #expect(table.handle(wd: -1, mask: UInt32(IN_Q_OVERFLOW), name: []) == [.overflow])
        #expect(table.handle(wd: 7, mask: UInt32(IN_CREATE), name: Array("x".utf8)).isEmpty)
    }
}
