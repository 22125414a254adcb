import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// A run started by `--watch` lists again only the folders that changed: the client's `-v` log
    /// says how many folders each run listed ("scanned all M folders" for a full scan, "rescanned
    /// N of M folders" for a partial one), and the server still ends with the exact tree.
    @Suite("Watch mode: partial rescans")
    struct PartialRescanTests {
        let bound = 30.0

        @Test(
            "a change deep in the tree lists that folder alone; new and deleted folders; a rule file changed walks its subtree; the server has the exact tree"
        )
        func onlyChangedFoldersAreListed() throws {
            let work = try TemporaryDirectory("watch-partial")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            // 1 + 10 + 10 * 3 + 3 = 44 folders, the source included.
            for top in 0..<10 {
                for inner in 0..<3 {
                    try FileManager.default.createDirectory(
                        atPath: source + "/t\(top)/i\(inner)", withIntermediateDirectories: true)
                    try SampleTree.write(Array("\(top)/\(inner)".utf8), to: source + "/t\(top)/i\(inner)/file.txt")
                }
            }
            try FileManager.default.createDirectory(atPath: source + "/deep/a/b", withIntermediateDirectories: true)
            for name in ["keep", "change", "delete"] {
                try SampleTree.write(Array(name.utf8), to: source + "/deep/a/b/\(name).txt")
            }
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            let client = try WatchingClient(
                ["--source", source, "--id", "p", "-v"] + server.connect
                    + ["--watch", "--watch-delay", "2s", "--watch-delete-delay", "2s", "--rescan-interval", "1h"]
                    + ["--delete"],
                in: work)
            try #require(WatchingClient.await(60) { client.runs.count == 1 }, "no first run: \(client.stderr)")
            #expect(client.stderr.contains("scanned all 44 folders"), "\(client.stderr)")
            let stored = root + "/p"

            /// Makes `change` and waits for the server to hold the source, but the files `leftOut`.
            func arrives(_ what: String, leftOut: [String] = [], _ change: () throws -> Void) throws -> String {
                let runsBefore = client.runs.count
                let logBefore = client.stderr.count
                try change()
                var expected = try TreeSnapshot(of: source)
                for path in leftOut { expected.files[path] = nil }
                let arrived = WatchingClient.await(2 + bound) {
                    (try? TreeSnapshot(of: stored)) == expected && client.runs.count > runsBefore
                }
                #expect(arrived, "\(what): not on the server: \(client.stdout)\n\(client.stderr)")
                return String(client.stderr.dropFirst(logBefore))
            }

            let nested = try arrives("a file created, one modified and one deleted in a nested folder") {
                try SampleTree.write(Array("new".utf8), to: source + "/deep/a/b/new.txt")
                try SampleTree.write(Array("changed, and longer".utf8), to: source + "/deep/a/b/change.txt")
                try FileManager.default.removeItem(atPath: source + "/deep/a/b/delete.txt")
            }
            #expect(nested.contains("rescanned 1 of 44 folders"), "\(nested)")
            #expect(!nested.contains("scanned all"), "\(nested)")

            let folders = try arrives("a new folder with a subfolder, and a folder deleted") {
                try FileManager.default.createDirectory(
                    atPath: source + "/deep/a/new/inner", withIntermediateDirectories: true)
                try SampleTree.write(Array("inner".utf8), to: source + "/deep/a/new/inner/file.txt")
                try FileManager.default.removeItem(atPath: source + "/t3/i1")
            }
            // deep/a and t3 listed, deep/a/new and deep/a/new/inner walked: 4 of 44 + 2 - 1.
            #expect(folders.contains("rescanned 4 of 45 folders"), "\(folders)")

            let excluding = try arrives("a rule file leaving out a file below it", leftOut: ["deep/a/b/skip.tmp"]) {
                try SampleTree.write(Array("*.tmp\n".utf8), to: source + "/deep/.filesyncignore")
                try SampleTree.write(Array("tmp".utf8), to: source + "/deep/a/b/skip.tmp")
            }
            // deep listed; its rules changed, so deep/a, deep/a/b, deep/a/new and deep/a/new/inner are walked.
            #expect(excluding.contains("rescanned 5 of 45 folders"), "\(excluding)")
            let including = try arrives("the rule file emptied: the file comes back") {
                try SampleTree.write([], to: source + "/deep/.filesyncignore")
            }
            #expect(including.contains("rescanned 5 of 45 folders"), "\(including)")
            #expect(client.stop() == 0, "\(client.stderr)")
        }

        /// The kernel's queue of inotify events (`fs.inotify.max_queued_events`), if it can be read.
        static let queueLength =
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }

        /// A real overflow: the client's watch is paused (its test-only hook, FolderWatcher.pauseVariable)
        /// while more events than the kernel's queue holds are made, then resumed.
        @Test(
            "a real inotify queue overflow makes the next run scan everything, and the server gets every file",
            .enabled(
                if: (PartialRescanTests.queueLength ?? .max) <= 1 << 17, "the inotify queue is too long to fill quickly"
            ))
        func overflowScansEverything() throws {
            let work = try TemporaryDirectory("watch-overflow")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            for folder in ["storm", "other"] {
                try FileManager.default.createDirectory(
                    atPath: source + "/" + folder, withIntermediateDirectories: true)
            }
            try SampleTree.write(Array("first".utf8), to: source + "/storm/first.txt")
            try SampleTree.write(Array("other".utf8), to: source + "/other/file.txt")
            let pause = work.path + "/pause"
            try SampleTree.write([], to: pause)
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            let client = try WatchingClient(
                ["--source", source, "--id", "o", "-v"] + server.connect
                    + ["--watch", "--watch-delay", "2s", "--rescan-interval", "1h"],
                in: work, extraEnvironment: ["FILESYNC_TEST_WATCH_PAUSE_FILE": pause])
            try #require(WatchingClient.await(60) { client.runs.count == 1 }, "no first run: \(client.stderr)")
            let logBefore = client.stderr.count
            // Each file makes at least two events (created, closed after writing): twice the queue in all.
            let files = (Self.queueLength ?? 16_384) + 1
            for index in 0..<files {
                let fd = open(source + "/storm/f\(index)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                try #require(fd >= 0, "open: \(errno)")
                let text = Array("file \(index)\n".utf8)
                _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            try FileManager.default.removeItem(atPath: pause)
            let arrived = WatchingClient.await(120) {
                client.runs.count >= 2 && (try? TreeSnapshot(of: root + "/o"))?.files.count == files + 2
            }
            #expect(arrived, "\(client.stdout)\n\(client.stderr)")
            let log = String(client.stderr.dropFirst(logBefore))
            #expect(log.contains("the kernel dropped change events (queue overflow)"), "\(log)")
            #expect(log.contains("scanned all 3 folders"), "\(log)")
            #expect(!log.contains("rescanned"), "\(log)")
            #expect(client.stop() == 0, "\(client.stderr)")
        }
    }
}
