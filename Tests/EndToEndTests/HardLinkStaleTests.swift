import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// A file replaced by a hard link to another file of the same size and mtime: the quick check
    /// cannot see the change, and the link must not copy the stale stored content over the other
    /// name (Protocol.md §6.11).
    @Suite("Hard links over stale copies") struct HardLinkStaleTests {
        /// Files "b" and "s" holding `b` and `s`, of one mtime, backed up as `id`; then "b" made a
        /// hard link of "s" in the source (its size and mtime stay those of the stored "b").
        static func backUpThenLink(b: String, s: String, in source: String, id: String, client: HistoryClient) throws {
            try SampleTree.write(Array(b.utf8), to: source + "/b")
            try SampleTree.write(Array(s.utf8), to: source + "/s")
            var times = [timespec(tv_sec: 1_577_836_800, tv_nsec: 0), timespec(tv_sec: 1_577_836_800, tv_nsec: 0)]
            for name in ["b", "s"] { #expect(utimensat(AT_FDCWD, source + "/" + name, &times, 0) == 0) }
            try client.backup(source, id: id)
            #expect(unlink(source + "/b") == 0 && link(source + "/s", source + "/b") == 0)
        }

        @Test("a name turned into a link of a file with its size and mtime: nothing is overwritten, the next run links")
        func staleLeadIsNotLinked() throws {
            let work = try TemporaryDirectory("hardlink-stale")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            // "b" sorts first: it leads its link group, and is stored with "x" while the file is "s".
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try Self.backUpThenLink(b: "x", s: "s", in: source, id: "stale", client: client)
            // A new name of the same file, too: it must not be linked to the suspect "b" either.
            #expect(link(source + "/s", source + "/n") == 0)

            // The run cannot tell which stored copy is stale: "s" keeps its own content, "b" its old
            // one, "n" waits, and the log says why; nothing is lost.
            try client.backup(source, id: "stale")
            let stored = root + "/stale"
            #expect(FileManager.default.contents(atPath: stored + "/s") == Data("s".utf8))
            #expect(FileManager.default.contents(atPath: stored + "/b") == Data("x".utf8))
            #expect(!FileManager.default.fileExists(atPath: stored + "/n"))
            #expect(server.log.contains("hard link not made"), "\(server.log)")

            // The next run asks for "b" again and makes the link.
            try client.backup(source, id: "stale")
            #expect(FileManager.default.contents(atPath: stored + "/s") == Data("s".utf8))
            #expect(FileManager.default.contents(atPath: stored + "/b") == Data("s".utf8))
            #expect(HardLinkTests.inode(stored + "/b")?.inode == HardLinkTests.inode(stored + "/s")?.inode)
            #expect(HardLinkTests.inode(stored + "/n")?.inode == HardLinkTests.inode(stored + "/s")?.inode)
            #expect(!FileManager.default.fileExists(atPath: root + "/.filesync/stale/resend.json"))
            let target = try work.subfolder("restored")
            #expect(try client.restore(id: "stale", to: target).status == 0)
            #expect(FileManager.default.contents(atPath: target + "/s") == Data("s".utf8))
            #expect(FileManager.default.contents(atPath: target + "/b") == Data("s".utf8))
        }

        @Test("a name turned into a link of an identical file: linked at once, nothing sent")
        func identicalCopyIsLinked() throws {
            let work = try TemporaryDirectory("hardlink-identical")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let client = HistoryClient(server: server, work: work)
            try Self.backUpThenLink(b: "same", s: "same", in: source, id: "same", client: client)
            let second = try client.backup(source, id: "same")
            #expect(second["sent"] as? Int == 0, "\(second)")
            let stored = root + "/same"
            #expect(HardLinkTests.inode(stored + "/b")?.inode == HardLinkTests.inode(stored + "/s")?.inode)
            #expect(!server.log.contains("hard link not made"))
        }
    }
}
