import FileSyncCore
import Foundation
import Testing

extension EndToEnd {
    /// The watch limit lowered in the test's own user namespace (`unshare -U -r`, then
    /// `/proc/sys/user/max_inotify_watches`, which bounds the namespace's watches below the host's
    /// `fs.inotify.max_user_watches`): the host's setting is never touched.
    @Suite(
        "Watch limit",
        .enabled(if: Harness.hasUnshare, "needs unshare for a user namespace of its own; skipped"))
    struct WatchLimitTests {
        @Test("at the watch limit the client says so once, with the sysctl and the number, and scans periodically")
        func limitFallsBackToScans() throws {
            let work = try TemporaryDirectory("watch-limit")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            for index in 0..<8 {
                try FileManager.default.createDirectory(
                    atPath: source + "/folder-\(index)", withIntermediateDirectories: true)
                try SampleTree.write(Array("\(index)".utf8), to: source + "/folder-\(index)/file.txt")
            }
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            let rescan = 3.0
            let client = try WatchingClient(
                ["--source", source, "--id", "lim"] + server.connect
                    + ["--watch", "--watch-delay", "1s", "--rescan-interval", "3s"],
                in: work, launcher: Self.launcher(watches: 3))
            try #require(WatchingClient.await(60) { client.runs.count >= 1 }, "no first run: \(client.stderr)")
            // Changes in every folder, watched or not, reach the server through the periodic scans.
            for index in 0..<8 {
                try SampleTree.write(Array("changed \(index)".utf8), to: source + "/folder-\(index)/new.txt")
            }
            let expected = try TreeSnapshot(of: source)
            let arrived = WatchingClient.await(rescan + 30) { (try? TreeSnapshot(of: root + "/lim")) == expected }
            #expect(arrived, "\(client.stdout)\n\(client.stderr)")

            // No busy loop: over a window of four rescan intervals, at most one run per interval (and one
            // more for a run under way).
            let before = client.runs.count
            let window = 4 * rescan
            WatchingClient.await(window) { false }
            let runs = client.runs.count - before
            #expect(runs >= 2 && runs <= 5, "\(runs) runs in \(window) s")

            let warnings = client.stderr.components(separatedBy: "watch limit is reached").count - 1
            #expect(warnings == 1, "\(client.stderr)")
            #expect(client.stderr.contains("3 of the 9 folders"), "\(client.stderr)")
            #expect(client.stderr.contains("fs.inotify.max_user_watches by at least 6"), "\(client.stderr)")
            #expect(client.stderr.contains("(it is 3): sysctl fs.inotify.max_user_watches=9"), "\(client.stderr)")
            #expect(client.stop() == 0, "\(client.stderr)")
        }

        @Test("folders left out by --exclude are not watched: no watch spent there, no run for their changes")
        func excludedFoldersAreNotWatched() throws {
            let work = try TemporaryDirectory("watch-exclude")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            for folder in ["a", "b"] + (0..<6).map({ "node_modules/p\($0)" }) {
                try FileManager.default.createDirectory(
                    atPath: source + "/" + folder, withIntermediateDirectories: true)
                try SampleTree.write(Array(folder.utf8), to: source + "/" + folder + "/file.txt")
            }
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            // Three watches: the root, a and b; node_modules and its six folders would need seven more.
            let client = try WatchingClient(
                ["--source", source, "--id", "ex"] + server.connect
                    + ["--exclude", "node_modules/", "--watch", "--watch-delay", "1s", "--rescan-interval", "1h"],
                in: work, launcher: Self.launcher(watches: 3))
            try #require(WatchingClient.await(60) { client.runs.count == 1 }, "no first run: \(client.stderr)")

            // A change in an excluded folder starts no run (watch a delay and more).
            try SampleTree.write(Array("ignored".utf8), to: source + "/node_modules/p3/new.txt")
            #expect(!WatchingClient.await(4) { client.runs.count > 1 }, "\(client.runs)")
            // A change in a watched folder does, within the delay.
            try SampleTree.write(Array("seen".utf8), to: source + "/b/new.txt")
            let arrived = WatchingClient.await(1 + 30) {
                FileManager.default.fileExists(atPath: root + "/ex/b/new.txt") && client.runs.count == 2
            }
            #expect(arrived, "\(client.stdout)\n\(client.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/ex/node_modules"))
            #expect(!client.stderr.contains("watch limit"), "\(client.stderr)")
            #expect(client.stop() == 0, "\(client.stderr)")
        }

        /// Runs the client in a user namespace of its own whose inotify watches are limited to `watches`.
        private static func launcher(watches: Int) -> [String] {
            [
                "/usr/bin/unshare", "-U", "-r", "/bin/sh", "-c",
                "echo \(watches) > /proc/sys/user/max_inotify_watches && exec \"$@\"", "watch-limit",
            ]
        }
    }
}
