import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Issue 19's round trip: one tree with every kind of metadata, backed up by a root server that
    /// applies owners, restored into an empty folder and compared with a stat-level walk.
    @Suite("Metadata round trip") struct MetadataRoundTripTests {
        static func write(_ text: String, to path: String) throws { try SampleTree.write(Array(text.utf8), to: path) }

        /// Folders with owners and a setgid bit, an empty folder, files with attributes and ACLs, a
        /// hard link, a symlink, a sparse file, a FIFO and a device.
        static func makeTree(at source: String, in work: TemporaryDirectory) throws {
            let manager = FileManager.default
            try manager.createDirectory(atPath: source + "/shared/empty", withIntermediateDirectories: true)
            try Self.write("attributed", to: source + "/shared/a.txt")
            #expect(link(source + "/shared/a.txt", source + "/b.txt") == 0)
            try manager.createSymbolicLink(atPath: source + "/link", withDestinationPath: "shared/a.txt")
            try XattrTests.tool("setfattr", ["-n", "user.note", "-v", "kept", source + "/shared/a.txt"], in: work)
            try XattrTests.tool("setfacl", ["-m", "u:1234:rw-", source + "/shared/a.txt"], in: work)
            try XattrTests.tool("setfacl", ["-d", "-m", "g:5678:r-x", source + "/shared/empty"], in: work)
            let sparse = open(source + "/disk.img", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            let data = [UInt8](repeating: 0xA5, count: 1 << 20)
            #expect(data.withUnsafeBytes { pwrite(sparse, $0.baseAddress, $0.count, 20 << 20) } == data.count)
            #expect(ftruncate(sparse, 64 << 20) == 0)
            close(sparse)
            #expect(mkfifo(source + "/pipe", 0o620) == 0)
            #expect(mknod(source + "/null", S_IFCHR | 0o666, dev_t(SpecialFileTests.nullDevice)) == 0)
            #expect(chown(source + "/shared", 1234, 5678) == 0 && chmod(source + "/shared", 0o2775) == 0)
            #expect(lchown(source + "/shared/a.txt", 4321, 8765) == 0)
            #expect(lchown(source + "/link", 1111, 2222) == 0)
        }

        @Test(
            "every kind round-trips: types, modes, owners, ns mtimes, targets, link groups, attributes, ACLs, holes",
            .enabled(if: Harness.isRoot && XattrTools.present, "needs root, and the attr and acl tools; skipped"))
        func everyKind() throws {
            let work = try TemporaryDirectory("roundtrip")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source, in: work)
            let server = try ServerProcess(root: root, in: work, extra: ["--apply-owners"])
            let backup = try runClient(["--source", source, "--id", "all", "--json"] + server.connect, in: work)
            #expect(backup.status == 0, "\(backup.stderr)")
            #expect((try backup.json()["warnings"] as? [Any])?.isEmpty ?? true, "\(backup.stdout)")

            let target = try work.subfolder("restored")
            let restored = try HistoryClient(server: server, work: work).restore(id: "all", to: target)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try StatTree(of: target).differences(from: StatTree(of: source)) == [])
            #expect(try XattrTests.attributes(of: target, in: work) == XattrTests.attributes(of: source, in: work))
            #expect(try XattrTests.acls(of: target, in: work) == XattrTests.acls(of: source, in: work))
            let a = HardLinkTests.inode(target + "/shared/a.txt")
            #expect(a?.links == 2 && HardLinkTests.inode(target + "/b.txt")?.inode == a?.inode)
            #expect(SparseFileTests.allocated(target + "/disk.img") <= 2 << 20)
        }
    }
}
