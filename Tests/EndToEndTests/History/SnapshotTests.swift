import Foundation
import Testing

extension EndToEnd {
    @Suite("Snapshots and restore") struct SnapshotTests {
        @Test("ransomware: after every file is overwritten and backed up, the first snapshot restores the original")
        func ransomware() throws {
            let work = try TemporaryDirectory("ransom")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 3, subfolders: 3, filesPerFolder: 10, largeFileBytes: 6 << 20)
            let original = try TreeSnapshot(of: source)
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "victim")
            // A listing waits for the snapshot the server records after the client has gone.
            #expect(try client.snapshots(id: "victim").count == 1)
            let before = diskUsage(of: root)
            let scrambled = try scramble(source, seed: 666)
            try client.backup(source, id: "victim")
            let snapshots = try client.snapshots(id: "victim")
            #expect(snapshots.count == 2)
            let growth = diskUsage(of: root) - before
            print("ransomware: \(scrambled) bytes overwritten, server disk grew by \(growth) bytes")
            #expect(growth < scrambled * 3 / 2, "the old content is kept once, not twice")

            let first = try #require(snapshots.first?["id"] as? String)
            // The second run changed every file: the snapshot before it is kept whatever the policy,
            // shown so in the list and said so in the server's log.
            let reason = snapshots.first?["protected"] as? String
            #expect(reason?.isEmpty == false, "the snapshot before the damage is not protected: \(snapshots)")
            #expect(snapshots.last?["protected"] == nil, "\(snapshots)")
            let warning = server.log.split(separator: "\n").first { $0.contains("protected from retention") }
            #expect(warning?.contains("snapshot=\(first)") == true, "no log line names \(first): \(server.log)")
            let target = try work.subfolder("restored")
            let result = try client.restore(id: "victim", to: target, ["--snapshot", first])
            #expect(result.status == 0, "\(result.stderr)")
            let restored = try TreeSnapshot(of: target)
            #expect(restored == original, "differences: \(restored.differences(from: original))")
        }

        @Test("one file and one folder from an older snapshot, --at between two snapshots, and no overwriting")
        func partialRestores() throws {
            let work = try TemporaryDirectory("partial-restore")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 4)
            // The first backup by a server whose clock (test-only) says an hour ago, so that --at
            // can fall between the two snapshots.
            let hourAgo = Int(Date().timeIntervalSince1970) - 3600
            let earlier = try ServerProcess(root: root, in: work, environment: ["FILESYNC_TEST_NOW": "\(hourAgo)"])
            let old = Array("version one".utf8)
            try SampleTree.write(old, to: source + "/dir 0/note.txt")
            try HistoryClient(server: earlier, work: work).backup(source, id: "desk")
            earlier.stop()
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            let oldFolder = try TreeSnapshot(of: source + "/dir 1")
            try SampleTree.write(Array("version two".utf8), to: source + "/dir 0/note.txt")
            try FileManager.default.removeItem(atPath: source + "/dir 1/sub-0")
            try client.backup(source, id: "desk", extra: ["--delete"])
            let snapshots = try client.snapshots(id: "desk")
            #expect(snapshots.count == 2)
            let firstID = try #require(snapshots.first?["id"] as? String)
            let firstTime = try #require(snapshots.first?["time"] as? Int)

            let one = try work.subfolder("one")
            #expect(try client.restore(id: "desk", to: one, ["--snapshot", firstID, "dir 0/note.txt"]).status == 0)
            #expect(FileManager.default.contents(atPath: one + "/dir 0/note.txt") == Data(old))
            #expect(Set(listing(of: one).filter { !$0.hasPrefix(".") }) == ["dir 0", "dir 0/note.txt"])

            let folder = try work.subfolder("folder")
            #expect(try client.restore(id: "desk", to: folder, ["--snapshot", firstID, "dir 1"]).status == 0)
            #expect(try TreeSnapshot(of: folder + "/dir 1") == oldFolder)
            // A folder typed as a shell completes it (trailing slash) names the same folder.
            let slashed = try work.subfolder("slashed")
            #expect(try client.restore(id: "desk", to: slashed, ["--snapshot", firstID, "./dir 1/"]).status == 0)
            #expect(try TreeSnapshot(of: slashed + "/dir 1") == oldFolder)

            // --at takes the newest snapshot at or before the time: the first one, here.
            let at = try work.subfolder("at")
            let stamp = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(firstTime + 60)))
            #expect(try client.restore(id: "desk", to: at, ["--at", stamp, "dir 0/note.txt"]).status == 0)
            #expect(FileManager.default.contents(atPath: at + "/dir 0/note.txt") == Data(old))

            // The latest snapshot into a folder that already holds the file: refused, nothing touched.
            let refused = try client.restore(id: "desk", to: one, ["dir 0/note.txt"])
            #expect(refused.status != 0)
            #expect(FileManager.default.contents(atPath: one + "/dir 0/note.txt") == Data(old))
            let overwritten = try client.restore(id: "desk", to: one, ["--overwrite", "dir 0/note.txt"])
            #expect(overwritten.status == 0, "\(overwritten.stderr)")
            #expect(FileManager.default.contents(atPath: one + "/dir 0/note.txt") == Data("version two".utf8))
        }

        @Test("another client id cannot list or restore this client's snapshots")
        func otherClientRefused() throws {
            let work = try TemporaryDirectory("other-id")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 1, subfolders: 1, filesPerFolder: 3)
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "owner")
            // Another machine: the same server secret, but its own client key.
            let intruderKey = work.path + "/intruder.key"
            let target = try work.subfolder("stolen")
            let result = try client.restore(id: "owner", to: target, ["--key-file", intruderKey])
            #expect(result.status == 78, "clientKeyMismatch expected: \(result.stderr)")
            #expect(listing(of: target).isEmpty)
        }
    }
}

extension EndToEnd.SnapshotTests {
    @Test("an unchanged tree's snapshot adds at most 64 KB; one byte changed in a large file adds its chunks + 64 KB")
    func snapshotCost() throws {
        let work = try TemporaryDirectory("snapshot-cost")
        let source = try work.subfolder("source")
        let root = try work.subfolder("root")
        try SampleTree.make(at: source, folders: 10, subfolders: 10, filesPerFolder: 20, largeFileBytes: 64 << 20)
        let server = try ServerProcess(root: root, in: work)
        let client = HistoryClient(server: server, work: work)
        // The server records a snapshot after the client has gone: a listing waits for it, so
        // each measure follows a completed recording (and the next one's cost is its own).
        try client.backup(source, id: "cost")
        #expect(try client.snapshots(id: "cost").count == 1)
        let afterFirst = diskUsage(of: root)
        try client.backup(source, id: "cost")
        #expect(try client.snapshots(id: "cost").count == 2)
        let unchanged = diskUsage(of: root) - afterFirst
        print("snapshot of an unchanged 2,000-file tree: \(unchanged) bytes")
        #expect(unchanged <= 64 << 10)

        let originalByte = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source + "/large.bin")))[40 << 20]
        guard let handle = FileHandle(forUpdatingAtPath: source + "/large.bin") else {
            throw TestFailure("cannot open the large file")
        }
        try handle.seek(toOffset: 40 << 20)
        try handle.write(contentsOf: Data([0x5A]))
        try handle.close()
        let beforeChange = diskUsage(of: root)
        try client.backup(source, id: "cost")
        #expect(try client.snapshots(id: "cost").count == 3)
        let changed = diskUsage(of: root) - beforeChange
        print("one byte changed in a 64 MiB file: \(changed) bytes")
        // The largest chunk the v1 chunker cuts is 512 KiB; an edit touches at most two of them.
        #expect(changed <= 2 * (512 << 10) + (64 << 10))
        // The changed file was patched in place (§6.8), and the snapshot before it still restores
        // the old version: its chunks were packed before the patch.
        #expect(server.log.contains(/path=large.bin .*patched in place/), "\(server.log)")
        let snapshots = try client.snapshots(id: "cost")
        let target = try work.subfolder("restored")
        let snapshot = try #require(snapshots[1]["id"] as? String)
        let restored = try client.restore(id: "cost", to: target, ["--snapshot", snapshot, "large.bin"])
        #expect(restored.status == 0, "\(restored.stderr)")
        var original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source + "/large.bin")))
        original[40 << 20] = originalByte
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: target + "/large.bin"))) == original)
    }

    @Test("a restore cut by kill -9 mid-file continues where it stopped")
    func resumedRestore() throws {
        let work = try TemporaryDirectory("restore-resume")
        let source = try work.subfolder("source")
        let root = try work.subfolder("root")
        try SampleTree.writeLarge(256 << 20, to: source + "/big.bin", seed: 5)
        let server = try ServerProcess(root: root, in: work)
        let client = HistoryClient(server: server, work: work)
        try client.backup(source, id: "cut")
        let target = try work.subfolder("target")
        let command = try Command(
            Harness.client, ["restore", "--id", "cut", "--to", target] + server.connect, in: work)
        // Wait (bounded) for part of the file to have arrived, then kill the client.
        let partials = target + "/.filesync-restore/partial"
        var received: Int64 = 0
        for _ in 0..<600 where received < 32 << 20 {
            received = diskUsage(of: partials)
            usleep(10_000)
        }
        kill(command.process.processIdentifier, SIGKILL)
        _ = command.wait()
        #expect(received >= 32 << 20, "the restore never got going")
        #expect(!FileManager.default.fileExists(atPath: target + "/big.bin"), "a half file appeared under its name")
        let rerun = try client.restore(id: "cut", to: target)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try rerun.json()
        #expect((summary["bytesReceived"] as? Int ?? Int.max) < 256 << 20, "the rerun started over")
        #expect(try TreeSnapshot(of: target) == TreeSnapshot(of: source))
    }
}

extension EndToEnd.SnapshotTests {
    @Test("the snapshot of a backup names the small files it stored by the hashes checked, reading none back")
    func storedFilesNotReadBack() throws {
        let work = try TemporaryDirectory("stored-digests")
        let source = try work.subfolder("source")
        let root = try work.subfolder("root")
        let count = try SampleTree.make(at: source, folders: 2, subfolders: 3, filesPerFolder: 20)
        let server = try ServerProcess(root: root, in: work)
        let client = HistoryClient(server: server, work: work)
        try client.backup(source, id: "fresh")
        let line = server.log.split(separator: "\n").first { $0.contains("snapshot recorded") }
        #expect(line?.contains("added=\(count)") == true, "\(server.log)")
        #expect(line?.contains(" read=0 ") == true, "the snapshot read stored files back: \(line ?? "")")
        let target = try work.subfolder("restored")
        let result = try client.restore(id: "fresh", to: target)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try TreeSnapshot(of: target) == TreeSnapshot(of: source))
    }
}
