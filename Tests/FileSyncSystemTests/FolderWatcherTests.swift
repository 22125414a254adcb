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
        // The new folder is watched as soon as it is seen.
        #expect(FileManager.default.createFile(atPath: root + "/new/b.txt", contents: Data("b".utf8)))
        #expect(await Self.sees(.changed(folder: root + "/new"), in: &events))
        try FileManager.default.moveItem(atPath: root + "/new", toPath: root + "/renamed")
        #expect(await Self.sees(.deleted(folder: root), in: &events))
        // Watched under its new name.
        #expect(FileManager.default.createFile(atPath: root + "/renamed/c.txt", contents: Data("c".utf8)))
        #expect(await Self.sees(.changed(folder: root + "/renamed"), in: &events))
        try FileManager.default.removeItem(atPath: root + "/old/a.txt")
        #expect(await Self.sees(.deleted(folder: root + "/old"), in: &events))

        watcher.stop()
        #expect(await !Self.sees(.overflow, in: &events), "the stream ends after stop")
    }

    @Test("a queue overflow is reported as such; events of a watch that is gone are dropped")
    func overflowAndIgnored() {
        var table = WatchTable(inotify: -1, root: Array("/nowhere".utf8))
        #expect(table.handle(wd: -1, mask: UInt32(IN_Q_OVERFLOW), name: []) == [.overflow])
        #expect(table.handle(wd: 7, mask: UInt32(IN_CREATE), name: Array("x".utf8)).isEmpty)
    }
}
