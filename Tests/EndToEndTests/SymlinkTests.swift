import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Symlinks through backup, the stored tree, snapshots and restore, and type changes between
    /// runs (Protocol.md §6.6, capability `metadata`), with the real executables.
    @Suite("Symlinks and type changes") struct SymlinkTests {
        /// Files, folders and every sort of symlink, with set mtimes (ns).
        static func makeTree(at source: String) throws {
            let manager = FileManager.default
            try manager.createDirectory(atPath: source + "/docs/deep", withIntermediateDirectories: true)
            try SampleTree.write(Array("alpha\n".utf8), to: source + "/docs/a.txt")
            try SampleTree.write(Array("beta\n".utf8), to: source + "/docs/deep/b.txt")
            let links = [
                "rel": "docs/a.txt", "abs": "/etc/hostname", "dangling": "no/such/thing", "dirlink": "docs",
                "docs/up": "../rel", "docs/deep/spaces and é": "../../docs/./a.txt",
            ]
            for (name, target) in links {
                try manager.createSymbolicLink(atPath: source + "/" + name, withDestinationPath: target)
                setTime(source + "/" + name, seconds: 1_600_000_000, nanoseconds: 123_456_789)
            }
            setTime(source + "/docs/a.txt", seconds: 1_500_000_000, nanoseconds: 987_654_321)
            try manager.createDirectory(atPath: source + "/empty", withIntermediateDirectories: true)
            // Setuid, setgid and sticky bits are kept (below the server's 0700 client folder).
            chmod(source + "/docs/a.txt", 0o4755)
            chmod(source + "/docs/deep/b.txt", 0o2640)
            chmod(source + "/docs", 0o2755)
            chmod(source + "/empty", 0o1777)
            // Folder times last, after their contents (deepest first), to the nanosecond.
            for (index, folder) in ["docs/deep", "docs", "empty"].enumerated() {
                setTime(source + "/" + folder, seconds: 1_400_000_000 + index, nanoseconds: 111_111_111 * (index + 1))
            }
        }

        @Test(
            "symlinks, empty folders, folder times and setuid/setgid/sticky bits are stored, recorded and restored")
        func roundTrip() throws {
            let work = try TemporaryDirectory("symlinks")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source)
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            let summary = try client.backup(source, id: "links")
            #expect((summary["warnings"] as? [Any])?.isEmpty == true, "\(summary)")

            // The stored tree holds the links themselves (no file was written through one).
            let stored = try StatTree(of: root + "/links")
            let original = try StatTree(of: source)
            // Owners are not compared: every file here is root's on both sides (ownership is not sent yet).
            let fields = StatTree.Fields(folderTimes: true, owners: false)
            #expect(stored.differences(from: original, comparing: fields) == [])
            #expect(stored.entries["empty"]?.type == "dir")
            #expect(stored.entries["abs"]?.target == "/etc/hostname")

            // A second run with nothing changed remakes nothing and sends nothing.
            let second = try client.backup(source, id: "links")
            #expect(second["sent"] as? Int == 0)

            let target = try work.subfolder("restored")
            let result = try client.restore(id: "links", to: target)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try result.json()["symlinks"] as? Int == 6)
            let restored = try StatTree(of: target)
            #expect(restored.differences(from: original, comparing: fields) == [])

            // A link pointed elsewhere is a change of metadata only: no content travels.
            try FileManager.default.removeItem(atPath: source + "/dangling")
            try FileManager.default.createSymbolicLink(atPath: source + "/dangling", withDestinationPath: "elsewhere")
            let third = try client.backup(source, id: "links")
            #expect(third["sent"] as? Int == 0 && third["bytesSent"] as? Int == 0)
            #expect(third["metadataUpdated"] as? Int == 1)
            let retargeted = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/links/dangling")
            #expect(retargeted == "elsewhere")
        }

        /// The tree of one run of the type-change test: each name with the type it has then.
        static func write(types: [String: String], at source: String) throws {
            let manager = FileManager.default
            for name in (try? manager.contentsOfDirectory(atPath: source)) ?? [] {
                try manager.removeItem(atPath: source + "/" + name)
            }
            for (name, type) in types {
                let path = source + "/" + name
                switch type {
                case "file": try SampleTree.write(Array("file \(name)\n".utf8), to: path)
                case "dir":
                    try manager.createDirectory(atPath: path + "/inner", withIntermediateDirectories: true)
                    try SampleTree.write(Array("inside \(name)\n".utf8), to: path + "/inner/f.txt")
                default: try manager.createSymbolicLink(atPath: path, withDestinationPath: "target-of-" + name)
                }
            }
        }

        static let before = [
            "f2l": "file", "l2f": "symlink", "d2l": "dir", "l2d": "symlink", "f2d": "file", "d2f": "dir",
        ]
        static let after = [
            "f2l": "symlink", "l2f": "file", "d2l": "symlink", "l2d": "dir", "f2d": "dir", "d2f": "file",
        ]

        @Test(
            "every pair of types changes between two runs, with or without --delete, and the first snapshot restores the old types",
            arguments: [[], ["--delete"]])
        func typeChanges(flags: [String]) throws {
            let work = try TemporaryDirectory("type-change")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try Self.write(types: Self.before, at: source)
            let first = try StatTree(of: source)
            try client.backup(source, id: "shift", extra: flags)
            try Self.write(types: Self.after, at: source)
            let second = try StatTree(of: source)
            // Archive mode too: with history, a replaced folder's files stay in the first snapshot.
            try client.backup(source, id: "shift", extra: flags)

            let fields = StatTree.Fields(folderTimes: false, owners: false)
            let stored = try StatTree(of: root + "/shift")
            #expect(stored.differences(from: second, comparing: fields) == [])

            let snapshots = try client.snapshots(id: "shift")
            let oldest = try #require(snapshots.first?["id"] as? String)
            let target = try work.subfolder("restored")
            let result = try client.restore(id: "shift", to: target, ["--snapshot", oldest])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try StatTree(of: target).differences(from: first, comparing: fields) == [])
        }

        @Test(
            "without --delete a folder holding what no snapshot has is kept that run (the entry fails), replaced the next"
        )
        func archiveKeepsUnsnapshottedFolder() throws {
            let work = try TemporaryDirectory("type-archive-unsnapshotted")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
            try SampleTree.write(Array("one".utf8), to: source + "/d/one.txt")
            try client.backup(source, id: "keep")
            // A file stored after the last snapshot (as a cut session leaves one): in no snapshot.
            try SampleTree.write(Array("late".utf8), to: root + "/keep/d/late.txt")
            try FileManager.default.removeItem(atPath: source + "/d")
            #expect(symlink("elsewhere", source + "/d") == 0)

            let second = try runClient(["--source", source, "--id", "keep"] + server.connect + ["--json"], in: work)
            #expect(second.status == 23, "\(second.stdout)\(second.stderr)")
            #expect(FileManager.default.contents(atPath: root + "/keep/d/late.txt") == Data("late".utf8))
            #expect(server.log.contains("a folder whose type changed is kept"), "\(server.log)")

            // That run's snapshot holds the folder: the next run replaces it, and the file stays restorable.
            try client.backup(source, id: "keep")
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/keep/d")) == "elsewhere")
            let snapshots = try client.snapshots(id: "keep")
            try #require(snapshots.count == 3, "\(snapshots)")
            let target = try work.subfolder("restored")
            let restored = try client.restore(
                id: "keep", to: target, ["--snapshot", snapshots[1]["id"] as? String ?? "", "d/late.txt"])
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(FileManager.default.contents(atPath: target + "/d/late.txt") == Data("late".utf8))
        }

        @Test(
            "without history and without --delete a folder is not replaced: its entry fails and the folder is kept; files and links are"
        )
        func archiveKeepsFoldersWithoutHistory() throws {
            let work = try TemporaryDirectory("type-archive")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, extra: ["--no-history"])
            try Self.write(types: Self.before, at: source)
            #expect(try runClient(["--source", source, "--id", "keep"] + server.connect, in: work).status == 0)
            try Self.write(types: Self.after, at: source)
            let run = try runClient(["--source", source, "--id", "keep"] + server.connect + ["--json"], in: work)
            #expect(run.status == 23, "\(run.stderr)")
            let failed = (try run.json()["failed"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
            #expect(Set(failed) == ["d2l", "d2f"])
            let stored = try StatTree(of: root + "/keep")
            #expect(stored.entries["d2l"]?.type == "dir" && stored.entries["d2l/inner/f.txt"]?.type == "file")
            #expect(stored.entries["d2f"]?.type == "dir")
            for name in ["f2l", "l2f", "l2d", "f2d"] {
                #expect(stored.entries[name]?.type == Self.after[name], "\(name)")
            }
        }
    }
}
