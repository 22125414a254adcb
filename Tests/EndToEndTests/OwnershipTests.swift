import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Numeric owners (Protocol.md §6.3, `metadata`): applied only by a root server that opted in.
    @Suite("Ownership") struct OwnershipTests {
        static func makeTree(at source: String) throws {
            try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
            try SampleTree.write(Array("owned".utf8), to: source + "/dir/file.txt")
            try FileManager.default.createSymbolicLink(atPath: source + "/link", withDestinationPath: "dir/file.txt")
            lchown(source + "/dir/file.txt", 1234, 5678)
            lchown(source + "/dir", 4321, 8765)
            lchown(source + "/link", 1111, 2222)
        }

        @Test(
            "a root server with --apply-owners stores the client's numeric owners, links included; restore puts them back",
            .enabled(if: Harness.isRoot, "needs root (chown); skipped"))
        func applied() throws {
            let work = try TemporaryDirectory("owners")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source)
            let server = try ServerProcess(root: root, in: work, extra: ["--apply-owners"])
            #expect(try runClient(["--source", source, "--id", "own"] + server.connect, in: work).status == 0)
            let stored = try StatTree(of: root + "/own")
            let original = try StatTree(of: source)
            for path in ["dir", "dir/file.txt", "link"] {
                #expect(stored.entries[path]?.uid == original.entries[path]?.uid, "\(path)")
                #expect(stored.entries[path]?.gid == original.entries[path]?.gid, "\(path)")
            }
            #expect(stored.entries["dir/file.txt"]?.uid == 1234)

            // Restore as root puts the owners back, with everything else, into an empty folder.
            let target = try work.subfolder("restored")
            let client = HistoryClient(server: server, work: work)
            _ = try client.snapshots(id: "own")
            let result = try client.restore(id: "own", to: target)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try StatTree(of: target).differences(from: original) == [])
        }

        @Test(
            "without --apply-owners nothing claimed is applied, but the snapshot records the claimed owners for a restore",
            .enabled(if: Harness.isRoot, "needs root (chown); skipped"))
        func notApplied() throws {
            let work = try TemporaryDirectory("owners-off")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source)
            let server = try ServerProcess(root: root, in: work)
            #expect(try runClient(["--source", source, "--id", "own"] + server.connect, in: work).status == 0)
            let stored = try StatTree(of: root + "/own")
            #expect(stored.entries.values.allSatisfy { $0.uid == getuid() && $0.gid == getgid() }, "\(stored.entries)")

            // The snapshot records the owners the client claimed: a restore as root puts them back.
            let target = try work.subfolder("restored")
            let client = HistoryClient(server: server, work: work)
            _ = try client.snapshots(id: "own")
            let result = try client.restore(id: "own", to: target)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try StatTree(of: target).differences(from: try StatTree(of: source)) == [])
            #expect(try StatTree(of: target).entries["dir/file.txt"]?.uid == 1234)
        }
    }
}
