import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Partial and killed backups in the history") struct PartialSnapshotTests {
        @Test(
            "a backup with failed files records a snapshot marked partial, listed so, and still restorable",
            .enabled(
                if: Harness.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr"),
                "needs root and chattr (an immutable folder); skipped"))
        func failedFilesMarkThePartialSnapshot() throws {
            let work = try TemporaryDirectory("partial-snapshot")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 1, subfolders: 1, filesPerFolder: 3)
            try FileManager.default.createDirectory(atPath: source + "/locked", withIntermediateDirectories: true)
            try SampleTree.write(Array("inside".utf8), to: source + "/locked/file.txt")
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "part")
            // An immutable folder on the server: even root cannot store the new file in it.
            let locked = root + "/part/locked"
            try #require(
                try Command.run("/usr/bin/chattr", ["+i", locked], in: work).status == 0,
                "chattr +i is needed to make the stored file fail")
            defer { _ = try? Command.run("/usr/bin/chattr", ["-i", locked], in: work) }
            try SampleTree.write(Array("new".utf8), to: source + "/locked/blocked.txt")
            try SampleTree.write(Array("changed".utf8), to: source + "/changed.txt")
            let run = try runClient(["--source", source, "--id", "part"] + server.connect + ["--json"], in: work)
            #expect(run.status == 23, "\(run.stderr)")

            let snapshots = try client.snapshots(id: "part")
            try #require(snapshots.count == 2, "\(snapshots)")
            #expect(snapshots[0]["failed"] == nil, "a complete snapshot carries no failed count")
            #expect(snapshots[1]["failed"] as? Int == 1, "\(snapshots[1])")
            let text = try runClient(["snapshots", "--id", "part"] + server.connect, in: work)
            let lines = text.stdout.split(separator: "\n")
            try #require(lines.count == 2, "\(text.stdout)")
            #expect(!lines[0].contains("partial"))
            #expect(lines[1].hasSuffix("partial: 1 file failed"), "\(lines[1])")
            #expect(server.log.contains("partial snapshot recorded"), "\(server.log)")

            // The latest snapshot is the partial one: it restores what the run stored, and says what it is.
            let target = try work.subfolder("restored")
            let restore = try client.restore(id: "part", to: target)
            #expect(restore.status == 0, "\(restore.stderr)")
            #expect(try restore.json()["snapshotFailed"] as? Int == 1, "\(restore.stdout)")
            #expect(FileManager.default.contents(atPath: target + "/changed.txt") == Data("changed".utf8))
            let plain = try runClient(
                ["restore", "--id", "part", "--to", try work.subfolder("plain")] + server.connect, in: work)
            #expect(plain.stdout.contains("partial snapshot: 1 file of that backup failed"), "\(plain.stdout)")
        }

        @Test("a backup killed part-way adds no snapshot")
        func killedBackupAddsNone() throws {
            let work = try TemporaryDirectory("killed-snapshot")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let other = try work.subfolder("other")
            try SampleTree.make(at: source, folders: 1, subfolders: 1, filesPerFolder: 3)
            try SampleTree.make(at: other, folders: 1, subfolders: 1, filesPerFolder: 2)
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "cut")
            try SampleTree.writeLarge(64 << 20, to: source + "/big.bin", seed: 9)
            let command = try Command(
                Harness.client, ["--source", source, "--id", "cut", "--bwlimit", "8M"] + server.connect, in: work)
            let partials = root + "/.filesync/cut/partial"
            var received: Int64 = 0
            for _ in 0..<3000 where received < 1 << 20 {
                received = diskUsage(of: partials)
                usleep(10_000)
            }
            kill(command.process.processIdentifier, SIGKILL)
            _ = command.wait()
            #expect(received >= 1 << 20, "the backup never got going")
            // Another client's backup takes its turn only once the killed session has ended and given
            // up the queue: whatever that session was going to record, it has recorded by then.
            try client.backup(other, id: "next")
            let snapshots = try client.snapshots(id: "cut")
            #expect(snapshots.count == 1, "\(snapshots)")
        }
    }
}
