import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Retention, prune and check") struct RetentionTests {
        /// The ids of the client's snapshot files, oldest first by name (names start with the time).
        static func snapshotIDs(root: String, id: String) -> [String] {
            let folder = root + "/.filesync/\(id)/history/snapshots"
            return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        }

        /// Backs up `source` once with the server's clock at `time` (the test-only FILESYNC_TEST_NOW).
        static func backup(
            _ source: String, root: String, at time: Int, extra: [String], work: TemporaryDirectory
        ) throws {
            let server = try ServerProcess(
                root: root, in: work, extra: extra, environment: ["FILESYNC_TEST_NOW": "\(time)"])
            defer { server.stop() }
            try SampleTree.write(Array("run at \(time)".utf8), to: source + "/changing.txt")
            let result = try runClient(["--source", source, "--id", "keep"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
        }

        @Test("hourly runs over three days keep exactly what --keep-last 2 --keep-daily 3 names")
        func retentionKeepsThePolicy() throws {
            let work = try TemporaryDirectory("retention")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 5)
            let policy = [
                "--keep-last", "2", "--keep-hourly", "0", "--keep-daily", "3", "--keep-weekly", "0",
                "--keep-monthly", "0", "--keep-yearly", "0",
            ]
            let start = 1_796_083_200  // 2026-12-01T00:00:00Z
            // Runs at 10:00 and 20:00 on each of four days.
            var times: [Int] = []
            for day in 0..<4 {
                let midnight = start + day * 86_400
                times += [midnight + 36_000, midnight + 72_000]
            }
            for time in times { try Self.backup(source, root: root, at: time, extra: policy, work: work) }
            let kept = Self.snapshotIDs(root: root, id: "keep")
            // Newest two (day 4 at 20:00 and 10:00) and the newest of each of the last three days.
            let expected = ["20261202T200000Z", "20261203T200000Z", "20261204T100000Z", "20261204T200000Z"]
            #expect(kept.map { String($0.prefix(16)) } == expected)
        }

        @Test("prune reclaims space; kill -9 during prune loses nothing; check --read-data finds damage")
        func pruneCrashAndCheck() throws {
            let work = try TemporaryDirectory("prune")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 5, largeFileBytes: 8 << 20)
            let start = 1_796_083_200
            for (index, seed) in [11, 12, 13].enumerated() {
                try SampleTree.writeLarge(8 << 20, to: source + "/large.bin", seed: UInt64(seed))
                try Self.backup(source, root: root, at: start + index * 3600, extra: [], work: work)
            }
            #expect(Self.snapshotIDs(root: root, id: "keep").count == 3)
            let history = root + "/.filesync/keep/history"
            let before = diskUsage(of: history)
            let keepOne = [
                "--root", root, "--keep-last", "1", "--keep-hourly", "0", "--keep-daily", "0", "--keep-weekly", "0",
                "--keep-monthly", "0", "--keep-yearly", "0",
            ]
            // A prune killed at once, then one killed a moment later, then one left to finish.
            for delay: useconds_t in [0, 20_000] {
                let prune = try Command(Harness.server, ["prune"] + keepOne, in: work)
                usleep(delay)
                kill(prune.process.processIdentifier, SIGKILL)
                _ = prune.wait()
                let check = try Command.run(Harness.server, ["check", "--root", root, "--read-data"], in: work)
                #expect(check.status == 0, "after kill -9 of prune: \(check.stdout)\(check.stderr)")
            }
            let prune = try Command.run(Harness.server, ["prune"] + keepOne, in: work)
            #expect(prune.status == 0, "\(prune.stderr)")
            #expect(Self.snapshotIDs(root: root, id: "keep").count == 1)
            // The two forgotten versions of the large file held most of the history's bytes.
            let after = diskUsage(of: history)
            print("prune: history \(before) bytes before, \(after) after")
            #expect(after < before / 2, "prune reclaimed only \(before - after) of \(before) bytes")
            let check = try Command.run(Harness.server, ["check", "--root", root, "--read-data"], in: work)
            #expect(check.status == 0, "\(check.stdout)")
        }
    }
}

extension EndToEnd.RetentionTests {
    @Test("the snapshot before a run that changed most files outlives retention until a prune by hand")
    func protectionLastsUntilPruneByHand() throws {
        let work = try TemporaryDirectory("protection")
        let source = try work.subfolder("source")
        let root = try work.subfolder("root")
        let keepOne = [
            "--keep-last", "1", "--keep-hourly", "0", "--keep-daily", "0", "--keep-weekly", "0",
            "--keep-monthly", "0", "--keep-yearly", "0",
        ]
        let start = 1_796_083_200
        for name in ["a", "b", "c"] { try SampleTree.write(Array("good \(name)".utf8), to: source + "/" + name) }
        try Self.backup(source, root: root, at: start, extra: keepOne, work: work)
        let good = Self.snapshotIDs(root: root, id: "keep")
        #expect(good.count == 1)
        // Every file overwritten (as ransomware would), then a quiet run.
        for name in ["a", "b", "c"] { try SampleTree.write(Array("damaged \(name)".utf8), to: source + "/" + name) }
        try Self.backup(source, root: root, at: start + 3_600, extra: keepOne, work: work)
        try Self.backup(source, root: root, at: start + 7_200, extra: keepOne, work: work)
        var kept = Self.snapshotIDs(root: root, id: "keep")
        #expect(kept.count == 2 && kept.first == good.first, "retention forgot the protected snapshot: \(kept)")
        let keeping = try Command.run(
            Harness.server, ["prune", "--root", root, "--keep-protected"] + keepOne, in: work)
        #expect(keeping.status == 0, "\(keeping.stderr)")
        #expect(Self.snapshotIDs(root: root, id: "keep") == kept)
        let byHand = try Command.run(Harness.server, ["prune", "--root", root] + keepOne, in: work)
        #expect(byHand.status == 0, "\(byHand.stderr)")
        kept = Self.snapshotIDs(root: root, id: "keep")
        #expect(kept.count == 1 && kept.first != good.first, "a prune by hand kept \(kept)")
    }

    @Test("check --read-data reports a flipped byte in a pack and a snapshot whose content is missing")
    func checkFindsDamage() throws {
        let work = try TemporaryDirectory("check-damage")
        let source = try work.subfolder("source")
        let root = try work.subfolder("root")
        try SampleTree.make(at: source, folders: 1, subfolders: 2, filesPerFolder: 4, largeFileBytes: 4 << 20)
        for (index, seed) in [21, 22].enumerated() {
            try SampleTree.writeLarge(4 << 20, to: source + "/large.bin", seed: UInt64(seed))
            try Self.backup(source, root: root, at: 1_796_083_200 + index * 60, extra: [], work: work)
        }
        let check = { try Command.run(Harness.server, ["check", "--root", root, "--read-data"], in: work) }
        #expect(try check().status == 0)
        let packs = root + "/.filesync/keep/history/packs"
        // The largest pack: the old large file's chunks (a same-size edit of changing.txt, patched
        // in place, packs its old content on its own).
        let size = { (name: String) in
            (try? FileManager.default.attributesOfItem(atPath: packs + "/" + name)[.size] as? Int) ?? 0
        }
        let pack = try #require(
            try FileManager.default.contentsOfDirectory(atPath: packs).filter { $0.hasSuffix(".pack") }
                .max { size($0) < size($1) })
        try flipByte(at: 4096, of: packs + "/" + pack)
        let flipped = try check()
        #expect(flipped.status == 1)
        #expect(flipped.stdout.contains("damaged"), "\(flipped.stdout)")

        // A missing tree object: the first snapshot's root folder.
        try FileManager.default.removeItem(atPath: packs)
        try FileManager.default.createDirectory(atPath: packs, withIntermediateDirectories: false)
        let trees = root + "/.filesync/keep/history/trees"
        for folder in try FileManager.default.contentsOfDirectory(atPath: trees) {
            try FileManager.default.removeItem(atPath: trees + "/" + folder)
        }
        let missing = try check()
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("damaged"), "\(missing.stdout)")
    }
}

extension EndToEnd.RetentionTests {
    @Test("prune applies the retention counts saved by the setup; a --keep-* flag still wins over them")
    func pruneUsesSavedRetention() throws {
        let work = try TemporaryDirectory("prune-saved")
        let source = try work.subfolder("source")
        let root = try work.subfolder("root")
        try SampleTree.make(at: source, folders: 1, subfolders: 2, filesPerFolder: 4)
        for index in 0..<3 {
            try Self.backup(source, root: root, at: 1_796_083_200 + index * 3600, extra: [], work: work)
        }
        #expect(Self.snapshotIDs(root: root, id: "keep").count == 3)
        // Saved after the backups, so that only prune reads it. The commands find it through
        // XDG_CONFIG_HOME, as the setup's default path.
        let saved = SavedConfig(root: root, retention: "1 0 0 0 0 0")
        try saved.write(to: work.path + "/config/filesync/server.json")

        let flagWins = try Command.run(Harness.server, ["prune", "--keep-last", "2"], in: work)
        #expect(flagWins.status == 0, "\(flagWins.stderr)")
        #expect(Self.snapshotIDs(root: root, id: "keep").count == 2, "\(flagWins.stdout)")

        let savedCounts = try Command.run(Harness.server, ["prune"], in: work)
        #expect(savedCounts.status == 0, "\(savedCounts.stderr)")
        #expect(Self.snapshotIDs(root: root, id: "keep").count == 1, "\(savedCounts.stdout)")
    }

    @Test("prune by hand applies the --keep-* flags the server was started with, and only its last start's")
    func pruneUsesTheServersFlags() throws {
        let work = try TemporaryDirectory("prune-served")
        let source = try work.subfolder("source")
        let root = try work.subfolder("root")
        try SampleTree.make(at: source, folders: 1, subfolders: 1, filesPerFolder: 3)
        for index in 0..<3 {
            try Self.backup(source, root: root, at: 1_796_083_200 + index * 3600, extra: [], work: work)
        }
        #expect(Self.snapshotIDs(root: root, id: "keep").count == 3)
        let keepTwo = [
            "--keep-last", "2", "--keep-hourly", "0", "--keep-daily", "0", "--keep-weekly", "0",
            "--keep-monthly", "0", "--keep-yearly", "0",
        ]
        // A server started with flags and no session: the flags are recorded as it starts.
        try ServerProcess(root: root, in: work, extra: keepTwo).stop()
        let served = try Command.run(Harness.server, ["prune", "--root", root, "--dry-run"], in: work)
        #expect(served.status == 0, "\(served.stderr)")
        #expect(served.stdout.contains("retention: last 2, hourly 0, daily 0"), "\(served.stdout)")
        #expect(served.stdout.contains("would forget 1"), "\(served.stdout)")
        #expect(Self.snapshotIDs(root: root, id: "keep").count == 3)

        // Started again without them, the defaults apply and nothing is forgotten.
        try ServerProcess(root: root, in: work, extra: []).stop()
        let plain = try Command.run(Harness.server, ["prune", "--root", root], in: work)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("retention: last 10, hourly 48"), "\(plain.stdout)")
        #expect(Self.snapshotIDs(root: root, id: "keep").count == 3, "\(plain.stdout)")
    }

    /// The fields of the server's config file this test needs.
    struct SavedConfig: Encodable {
        var root: String
        var retention: String

        func write(to path: String) throws {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try JSONEncoder().encode(self).write(to: url)
        }
    }
}
