import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// `--watch` against a real server. The server's `NEXT_SYNC` and the rescan interval are an hour,
    /// so that every run after the first one comes from the watch; each change must reach the
    /// server within the watch delay plus `bound` seconds (awaited by polling the server's tree).
    @Suite("Watch mode")
    struct WatchTests {
        let bound = 30.0

        @Test("files and folders created, modified, renamed and deleted reach the server within the delay")
        func changesReachTheServer() throws {
            let work = try TemporaryDirectory("watch")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("first".utf8), to: source + "/first.txt")
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            let client = try WatchingClient(
                ["--source", source, "--id", "w"] + server.connect
                    + [
                        "--watch", "--watch-delay", "2s", "--watch-delete-delay", "3s", "--rescan-interval", "1h",
                        "--delete",
                    ],
                in: work)
            try #require(WatchingClient.await(60) { client.runs.count == 1 }, "no first run: \(client.stderr)")
            let stored = root + "/w"
            func arrives(_ what: String, delay: Double, _ change: () throws -> Void) throws {
                let runsBefore = client.runs.count
                try change()
                let started = Date()
                let expected = try TreeSnapshot(of: source)
                let arrived = WatchingClient.await(delay + bound) {
                    (try? TreeSnapshot(of: stored)) == expected && client.runs.count > runsBefore
                }
                let seconds = Date().timeIntervalSince(started)
                #expect(arrived, "\(what): not on the server after \(seconds) s: \(client.stdout)\n\(client.stderr)")
                print("watch: \(what) reached the server in \(String(format: "%.1f", seconds)) s")
            }
            try arrives("a new file and a new folder with a file", delay: 2) {
                try SampleTree.write(Array("new".utf8), to: source + "/new.txt")
                try FileManager.default.createDirectory(
                    atPath: source + "/folder/inner", withIntermediateDirectories: true)
                try SampleTree.write(Array("inner".utf8), to: source + "/folder/inner/file.txt")
            }
            try arrives("a modified file in a new folder", delay: 2) {
                let handle = try #require(FileHandle(forWritingAtPath: source + "/folder/inner/file.txt"))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(" and more".utf8))
                try handle.close()
            }
            try arrives("a renamed file and a renamed folder", delay: 2) {
                try FileManager.default.moveItem(atPath: source + "/new.txt", toPath: source + "/renamed.txt")
                try FileManager.default.moveItem(atPath: source + "/folder", toPath: source + "/moved")
            }
            try arrives("a file in the renamed folder (watched under its new name)", delay: 2) {
                try SampleTree.write(Array("later".utf8), to: source + "/moved/inner/later.txt")
            }
            try arrives("a deleted file and a deleted folder (--delete)", delay: 3) {
                try FileManager.default.removeItem(atPath: source + "/renamed.txt")
                try FileManager.default.removeItem(atPath: source + "/moved")
            }
            #expect(client.process.isRunning)
            #expect(client.stop() == 0, "\(client.stderr)")
        }

        @Test("with several sources, a change in any of them reaches the server under that source's name")
        func severalSourcesAreWatched() throws {
            let work = try TemporaryDirectory("watch-sources")
            let photos = try work.subfolder("photos")
            let documents = try work.subfolder("documents")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("first".utf8), to: photos + "/first.jpg")
            try SampleTree.write(Array("first".utf8), to: documents + "/first.txt")
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            let client = try WatchingClient(
                ["--source", photos, "--source", documents, "--id", "ws"] + server.connect
                    + ["--watch", "--watch-delay", "2s", "--rescan-interval", "1h"],
                in: work)
            try #require(WatchingClient.await(60) { client.runs.count == 1 }, "no first run: \(client.stderr)")
            for (folder, name) in [(photos, "photos"), (documents, "documents")] {
                let runsBefore = client.runs.count
                try SampleTree.write(Array("later".utf8), to: folder + "/later")
                let arrived = WatchingClient.await(2 + bound) {
                    FileManager.default.fileExists(atPath: root + "/ws/\(name)/later") && client.runs.count > runsBefore
                }
                #expect(arrived, "a change in \(name) did not reach the server: \(client.stderr)")
            }
            #expect(client.stop() == 0, "\(client.stderr)")
        }

        @Test("a storm of 10,000 files written at once makes one run, not thousands")
        func stormMakesOneRun() throws {
            let work = try TemporaryDirectory("watch-storm")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("first".utf8), to: source + "/first.txt")
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            // Longer than the default (10 s), so that the storm is over well within it even on a busy machine.
            let delay = 20.0
            let client = try WatchingClient(
                ["--source", source, "--id", "storm"] + server.connect
                    + ["--watch", "--watch-delay", "20s", "--rescan-interval", "1h"],
                in: work)
            try #require(WatchingClient.await(60) { client.runs.count == 1 }, "no first run: \(client.stderr)")

            let started = Date()
            try Self.writeStorm(in: source, folders: 20, filesPerFolder: 500)
            let written = Date().timeIntervalSince(started)
            print("watch: 10,000 files written in \(String(format: "%.2f", written)) s")
            // The storm is over well within the delay, so one run covers it.
            try #require(written < delay * 0.75, "the storm took \(written) s: too slow to test coalescing")
            let arrived = WatchingClient.await(delay + 120) {
                client.runs.count >= 2 && (try? TreeSnapshot(of: root + "/storm"))?.files.count == 10_001
            }
            #expect(arrived, "\(client.stdout)\n\(client.stderr)")
            // A second run would come within the delay after the first; watch one delay more.
            WatchingClient.await(delay + 2) { client.runs.count > 2 }
            #expect(client.runs.count == 2, "\(client.runs)")
            #expect(client.runs.last?.contains("10001 files scanned, 10000 sent") == true, "\(client.runs)")
            let sessions = server.log.components(separatedBy: "session started").count - 1
            #expect(sessions == 2, "\(sessions) sessions on the server")
            #expect(client.stop() == 0, "\(client.stderr)")
        }

        /// 10,000 small files in `folders` new folders, written with plain system calls to be quick.
        private static func writeStorm(in source: String, folders: Int, filesPerFolder: Int) throws {
            for folder in 0..<folders {
                let path = source + "/storm-\(folder)"
                guard mkdir(path, 0o755) == 0 else { throw TestFailure("mkdir \(path): \(errno)") }
                for index in 0..<filesPerFolder {
                    let fd = open(path + "/f\(index)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    guard fd >= 0 else { throw TestFailure("open: \(errno)") }
                    let text = Array("file \(folder)/\(index)\n".utf8)
                    _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    close(fd)
                }
            }
        }
    }
}
