import Crypto
import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

extension EndToEnd {
    @Suite("Backups") struct BackupTests {
        @Test(
            "a first backup of 1000+ files and 100 MB equals the source; a second sends exactly the 5 changed or added files"
        )
        func firstAndIncrementalBackup() throws {
            let work = try TemporaryDirectory("backup")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let count = try SampleTree.make(at: source, largeFileBytes: 100 << 20)
            #expect(count >= 1001)
            let server = try ServerProcess(root: root, in: work)

            let first = try runClient(
                ["--source", source, "--id", "laptop"] + server.connect + ["--json"], in: work)
            #expect(first.status == 0, "\(first.stderr)")
            let summary = try first.json()
            #expect(summary["scanned"] as? Int == count)
            #expect(summary["sent"] as? Int == count)
            #expect((summary["failed"] as? [Any])?.isEmpty == true)
            let sourceTree = try TreeSnapshot(of: source)
            let stored = try TreeSnapshot(of: root + "/laptop")
            #expect(stored == sourceTree, "differences: \(stored.differences(from: sourceTree))")

            // Change three files (one of them the large one) and add two.
            try SampleTree.write(Array("changed".utf8), to: source + "/dir 0/sub-0/file 1.dat")
            try SampleTree.write(
                Array("changed too, and longer".utf8), to: source + "/dir 5/sub-3/ünïcödé ñame 日本 3.txt")
            try SampleTree.writeLarge(100 << 20, to: source + "/large.bin", seed: 77)
            try SampleTree.write(Array("new".utf8), to: source + "/dir 9/new file.txt")
            try SampleTree.write([], to: source + "/empty folder/new empty")

            let second = try runClient(
                ["--source", source, "--id", "laptop"] + server.connect + ["--json"], in: work)
            #expect(second.status == 0, "\(second.stderr)")
            let again = try second.json()
            #expect(again["sent"] as? Int == 5)
            #expect(again["unchanged"] as? Int == count - 3)
            // The old name stays for one release.
            #expect(again["skipped"] as? Int == count - 3)
            #expect(again["scanned"] as? Int == count + 2)
            let updated = try TreeSnapshot(of: source)
            let storedAgain = try TreeSnapshot(of: root + "/laptop")
            #expect(storedAgain == updated, "differences: \(storedAgain.differences(from: updated))")
        }

        @Test("--server skips discovery entirely: it works against a server that does not answer discovery")
        func serverOverride() throws {
            let work = try TemporaryDirectory("override")
            let source = try work.subfolder("source")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 5)
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, extra: ["--no-discovery"])
            let result = try runClient(["--source", source, "--id", "box"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("21 files scanned, 21 sent"), "\(result.stdout)")
            #expect(try TreeSnapshot(of: root + "/box") == TreeSnapshot(of: source))
        }

        @Test("files deleted on the client stay on the server by default; --delete mirrors them")
        func archiveAndMirror() throws {
            let work = try TemporaryDirectory("delete")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 3)
            let server = try ServerProcess(root: root, in: work)
            let arguments = ["--source", source, "--id", "m"] + server.connect + ["--json"]
            #expect(try runClient(arguments, in: work).status == 0)

            try FileManager.default.removeItem(atPath: source + "/dir 1")
            try FileManager.default.removeItem(atPath: source + "/empty.txt")
            let archive = try runClient(arguments, in: work)
            #expect(archive.status == 0)
            #expect(try archive.json()["deleted"] as? Int == 0)
            #expect(FileManager.default.fileExists(atPath: root + "/m/dir 1/sub-0/file 1.dat"))

            let mirror = try runClient(arguments + ["--delete"], in: work)
            #expect(mirror.status == 0, "\(mirror.stderr)")
            #expect((try mirror.json()["deleted"] as? Int ?? 0) > 0)
            #expect(try TreeSnapshot(of: root + "/m") == TreeSnapshot(of: source))
        }

        @Test("--delete with an empty or missing source deletes nothing on the server")
        func emptySourceNeverWipes() throws {
            let work = try TemporaryDirectory("wipe")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 3)
            let server = try ServerProcess(root: root, in: work)
            #expect(
                try runClient(["--source", source, "--id", "w"] + server.connect, in: work).status == 0)
            let before = try TreeSnapshot(of: root + "/w")

            let empty = try work.subfolder("empty")
            let emptyRun = try runClient(
                ["--source", empty, "--id", "w"] + server.connect + ["--delete", "--json"], in: work)
            // Refused, and said so with an exit code of its own that cron reports (not 0, not 23).
            #expect(emptyRun.status == 66, "\(emptyRun.stderr)")
            #expect(try emptyRun.json()["deleted"] as? Int == 0)
            #expect(emptyRun.stderr.contains("empty"), "\(emptyRun.stderr)")
            #expect(try TreeSnapshot(of: root + "/w") == before)
            // Without --delete there is nothing to refuse: an empty source is a normal run.
            #expect(try runClient(["--source", empty, "--id", "w"] + server.connect, in: work).status == 0)

            let missing = try runClient(
                ["--source", work.path + "/no-such-folder", "--id", "w"] + server.connect + ["--delete"],
                in: work)
            #expect(missing.status == 64)
            #expect(missing.stderr.contains("does not exist"), "\(missing.stderr)")
            #expect(try TreeSnapshot(of: root + "/w") == before)
        }

        @Test("a second run over the same source while one is running exits at once (lock)")
        func lockPreventsConcurrentRuns() throws {
            let work = try TemporaryDirectory("lock")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("x".utf8), to: source + "/x")
            // Hold the lock the way a running client does, then start a client.
            let digest = try lockDigest(for: source)
            let lockPath = work.path + "/filesync/source-\(digest).lock"
            try FileManager.default.createDirectory(atPath: work.path + "/filesync", withIntermediateDirectories: true)
            let fd = open(lockPath, O_RDWR | O_CREAT, 0o600)
            #expect(fd >= 0)
            defer { close(fd) }
            #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
            try KeyFile.create(work.path + "/secret")
            let result = try runClient(
                ["--source", source, "--id", "l", "--server", "127.0.0.1:9", "--secret-file", work.path + "/secret"],
                in: work, timeout: 20)
            #expect(result.status == 73)
            #expect(result.stderr.contains("already running"), "\(result.stderr)")
        }

        @Test("--loop backs up again when the server's NEXT_SYNC says, picking up new files")
        func loopFollowsNextSync() throws {
            let work = try TemporaryDirectory("loop")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1s"])
            let (client, reader) = try Self.loopingClient(source, id: "looper", server: server, work: work)
            defer {
                client.terminate()
                client.waitUntilExit()
            }
            let first = try reader.next(containing: " scanned, ", timeout: 60)
            #expect(first.contains("1 file scanned, 1 sent"), "\(first)")
            #expect(first.contains("next backup in 1s"), "\(first)")
            try SampleTree.write(Array("two".utf8), to: source + "/two.txt")
            var second = try reader.next(containing: " scanned, ", timeout: 60)
            // A run may have started before the new file existed; the one after it must send it.
            if !second.contains("2 files scanned") {
                second = try reader.next(containing: " scanned, ", timeout: 60)
            }
            #expect(second.contains("2 files scanned, 1 sent, 1 unchanged"), "\(second)")
            #expect(client.isRunning)
        }

        @Test("--loop --schedule backs up that often, whatever the server's NEXT_SYNC says")
        func loopFollowsSchedule() throws {
            let work = try TemporaryDirectory("loop-schedule")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            let (client, reader) = try Self.loopingClient(
                source, id: "scheduled", server: server, work: work, extra: ["--schedule", "1s"])
            defer {
                client.terminate()
                client.waitUntilExit()
            }
            let first = try reader.next(containing: " scanned, ", timeout: 60)
            #expect(first.contains("next backup in 1s"), "\(first)")
            // The server asks for an hour; a second run within a minute is the schedule's.
            let second = try reader.next(containing: " scanned, ", timeout: 60)
            #expect(second.contains("1 file scanned, 0 sent, 1 unchanged"), "\(second)")
        }

        @Test(
            "--loop ends at once and cleanly on SIGTERM or SIGINT while it waits for the next backup",
            arguments: [SIGTERM, SIGINT])
        func loopEndsGracefully(signal: Int32) throws {
            let work = try TemporaryDirectory("loop-signal")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            let exited = DispatchSemaphore(value: 0)
            let (client, reader) = try Self.loopingClient(source, id: "stopper", server: server, work: work) { _ in
                exited.signal()
            }
            defer {
                if client.isRunning {
                    kill(client.processIdentifier, SIGKILL)
                    client.waitUntilExit()
                }
            }
            let first = try reader.next(containing: " scanned, ", timeout: 60)
            #expect(first.contains("next backup in 1h"), "\(first)")
            kill(client.processIdentifier, signal)
            // The hour's wait ends at once: the process exits by itself, with status 0, not by the signal.
            try #require(exited.wait(timeout: .now() + 10) == .success, "still running 10 s after the signal")
            #expect(client.terminationReason == .exit)
            #expect(client.terminationStatus == 0)
        }

        /// Starts `filesync-client --loop` backing up `source` as `id`; its summary lines come from the
        /// reader, and `onExit` runs when it exits.
        private static func loopingClient(
            _ source: String, id: String, server: ServerProcess, work: TemporaryDirectory, extra: [String] = [],
            onExit: (@Sendable (Process) -> Void)? = nil
        ) throws -> (Process, LineReader) {
            let output = Pipe()
            let client = Process()
            client.executableURL = URL(fileURLWithPath: Harness.client)
            client.arguments = ["--source", source, "--id", id] + server.connect + ["--loop"] + extra
            client.environment = [
                "XDG_RUNTIME_DIR": work.path, "XDG_CONFIG_HOME": work.path + "/config",
                "XDG_CACHE_HOME": work.path + "/cache",
            ]
            client.standardOutput = output
            client.standardError = FileHandle(forWritingAtPath: "/dev/null")
            client.terminationHandler = onExit
            try client.run()
            return (client, LineReader(output.fileHandleForReading.fileDescriptor))
        }

        private func lockDigest(for source: String) throws -> String {
            let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
            return String(try shaHex(Array(resolved.utf8)).prefix(16))
        }

        /// Backs up `a.bin` (512 KiB, sent at 256 KiB/s: about two seconds) and `z.txt` (4 KiB), which
        /// comes after it; `change` acts on the source once the scan is over (the session has started),
        /// before z.txt is read. Checks that z.txt alone failed and was not stored, and that a.bin was.
        private static func backup(changingAfterScan name: String, _ change: (_ source: String) throws -> Void) throws {
            let work = try TemporaryDirectory(name)
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.writeLarge(512 << 10, to: source + "/a.bin", seed: 41)
            try SampleTree.writeLarge(4096, to: source + "/z.txt", seed: 42)
            let server = try ServerProcess(root: root, in: work)
            let client = try Command(
                Harness.client, ["--source", source, "--id", "c", "--json", "--bwlimit", "256K"] + server.connect,
                in: work)
            for _ in 0..<1000 where !server.log.contains("session started") { usleep(10_000) }
            try #require(server.log.contains("session started"))
            try change(source)

            let result = client.wait(timeout: 30)
            #expect(result.status == 23, "\(result.stderr)")
            let summary = try result.json()
            let failed = summary["failed"] as? [[String: Any]] ?? []
            #expect(failed.map { $0["path"] as? String } == ["z.txt"])
            #expect(summary["sent"] as? Int == 1 && summary["skipped"] as? Int == 0, "\(summary)")
            #expect(try TreeSnapshot.sha256(of: root + "/c/a.bin") == TreeSnapshot.sha256(of: source + "/a.bin"))
            #expect(!FileManager.default.fileExists(atPath: root + "/c/z.txt"), "no version of z.txt is stored yet")
        }

        @Test("a small file rewritten after the scan is reported as changed, never stored as a mix of versions")
        func rewrittenAfterScan() throws {
            // It grows to 8 KiB: read up to its old size only, it would be a prefix of the new version.
            try Self.backup(changingAfterScan: "rewritten") {
                try SampleTree.writeLarge(8192, to: $0 + "/z.txt", seed: 45)
            }
        }

        @Test("a file replaced by a FIFO after the scan is reported as failed, without the client blocking on it")
        func fifoAfterScan() throws {
            try Self.backup(changingAfterScan: "fifo") { source in
                try FileManager.default.removeItem(atPath: source + "/z.txt")
                try #require(mkfifo(source + "/z.txt", 0o644) == 0)
            }
        }
    }
}

func shaHex(_ bytes: [UInt8]) throws -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
