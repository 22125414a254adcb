import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the attr and acl tools the tests compare trees with are installed.
enum XattrTools {
    static let present = ["setfattr", "getfattr", "setfacl", "getfacl"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/" + $0)
    }
}

extension EndToEnd {
    /// Extended attributes and POSIX ACLs (capability `xattrs`, Protocol.md §6.9): through the
    /// backup, the stored tree, a snapshot and a restore; changes of attributes alone; old peers;
    /// attributes over the bounds.
    @Suite(
        "Extended attributes and ACLs",
        .enabled(if: XattrTools.present, "needs setfattr, getfattr, setfacl, getfacl (apt: attr, acl)"))
    struct XattrTests {
        /// Runs one of the attr/acl tools and returns its standard output.
        @discardableResult
        static func tool(_ name: String, _ arguments: [String], in work: TemporaryDirectory) throws -> String {
            let result = try Command.run("/usr/bin/" + name, arguments, in: work)
            #expect(result.status == 0, "\(name) \(arguments): \(result.stderr)")
            return result.stdout
        }

        /// Every `user.*` attribute and ACL of the tree at `folder`, as getfattr prints them (hex),
        /// with paths relative to `folder`.
        static func attributes(of folder: String, in work: TemporaryDirectory) throws -> String {
            try tool(
                "getfattr",
                ["-R", "-d", "-m", "^(user\\.|system\\.posix_acl)", "-e", "hex", "--absolute-names", folder],
                in: work
            ).replacingOccurrences(of: folder, with: ".")
        }

        /// The ACLs of the tree below `folder` as getfacl prints them, paths relative to `folder`
        /// (the folder's own block left out: the server keeps a client's folder 0700).
        static func acls(of folder: String, in work: TemporaryDirectory) throws -> String {
            let text = try tool("getfacl", ["-R", "-p", "-n", folder], in: work)
            return text.replacingOccurrences(of: folder, with: ".").components(separatedBy: "\n\n").dropFirst()
                .joined(separator: "\n\n")
        }

        /// A tree with attributes on files and folders, binary values, an access ACL and a default ACL.
        static func makeTree(at source: String, in work: TemporaryDirectory) throws {
            try FileManager.default.createDirectory(atPath: source + "/docs/empty", withIntermediateDirectories: true)
            try SampleTree.write(Array("attributed".utf8), to: source + "/docs/a.txt")
            try SampleTree.write(Array("plain".utf8), to: source + "/b.txt")
            try SampleTree.write(Array("binary".utf8), to: source + "/c.bin")
            try tool("setfattr", ["-n", "user.note", "-v", "hello", source + "/docs/a.txt"], in: work)
            try tool("setfattr", ["-n", "user.blob", "-v", "0x00ff10", source + "/c.bin"], in: work)
            try tool("setfattr", ["-n", "user.folder", "-v", "x", source + "/docs"], in: work)
            try tool("setfacl", ["-m", "u:1234:rw-,g:5678:r--", source + "/docs/a.txt"], in: work)
            try tool("setfacl", ["-d", "-m", "g:5678:r-x", source + "/docs/empty"], in: work)
        }

        @Test("attributes and ACLs reach the stored tree and a snapshot, and a restore puts them back")
        func roundTrip() throws {
            let work = try TemporaryDirectory("xattrs")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source, in: work)
            let original = try Self.attributes(of: source, in: work)
            #expect(original.contains("user.note=0x68656c6c6f"))
            #expect(original.contains("system.posix_acl_default"))
            let server = try ServerProcess(root: root, in: work)
            let result = try runClient(["--source", source, "--id", "xa"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try Self.attributes(of: root + "/xa", in: work) == original)
            let sourceACLs = try Self.acls(of: source, in: work)
            let storedACLs = try Self.acls(of: root + "/xa", in: work)
            #expect(storedACLs == sourceACLs, "stored:\n\(storedACLs)\nsource:\n\(sourceACLs)")

            let target = try work.subfolder("restored")
            let restored = try HistoryClient(server: server, work: work).restore(id: "xa", to: target)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try Self.attributes(of: target, in: work) == original)
            #expect(try Self.acls(of: target, in: work) == sourceACLs)
            #expect(try StatTree(of: target).differences(from: try StatTree(of: source)) == [])
        }

        @Test(
            "security.capability is applied only by a root server with --apply-owners; a root restore puts it back",
            .enabled(if: Harness.isRoot, "needs root (file capabilities); skipped"))
        func fileCapability() throws {
            let work = try TemporaryDirectory("xattrs-cap")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("ping".utf8), to: source + "/tool")
            // cap_net_raw, permitted (VFS_CAP_REVISION_2).
            let capability = "0x0100000200200000000000000000000000000000"
            try Self.tool("setfattr", ["-n", "security.capability", "-v", capability, source + "/tool"], in: work)
            let dump = { (folder: String) in
                try Self.tool(
                    "getfattr", ["-d", "-m", "^security\\.capability", "-e", "hex", folder + "/tool"], in: work)
            }
            #expect(try dump(source).contains(capability))
            for applies in [false, true] {
                let root = try work.subfolder("root-\(applies)")
                let server = try ServerProcess(root: root, in: work, extra: applies ? ["--apply-owners"] : [])
                let result = try runClient(["--source", source, "--id", "cap"] + server.connect, in: work)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(try dump(root + "/cap").contains(capability) == applies, "--apply-owners: \(applies)")
                guard applies else { continue }
                let target = try work.subfolder("restored")
                let restored = try HistoryClient(server: server, work: work).restore(id: "cap", to: target)
                #expect(restored.status == 0, "\(restored.stderr)")
                #expect(try dump(target).contains(capability))
            }
        }

        @Test("a change of attributes alone is applied without sending content; a removed one is removed")
        func attributesOnly() throws {
            let work = try TemporaryDirectory("xattrs-only")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source, in: work)
            let server = try ServerProcess(root: root, in: work)
            #expect(try runClient(["--source", source, "--id", "xo"] + server.connect, in: work).status == 0)
            try Self.tool("setfattr", ["-n", "user.note", "-v", "changed", source + "/docs/a.txt"], in: work)
            try Self.tool("setfattr", ["-x", "user.blob", source + "/c.bin"], in: work)
            try Self.tool("setfacl", ["-x", "g:5678", source + "/docs/a.txt"], in: work)
            let second = try runClient(["--source", source, "--id", "xo", "--json"] + server.connect, in: work)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(try second.json()["bytesSent"] as? Int == 0)
            #expect(try second.json()["metadataUpdated"] as? Int == 2)
            let stored = try Self.attributes(of: root + "/xo", in: work)
            #expect(stored == (try Self.attributes(of: source, in: work)))
            #expect(!stored.contains("user.blob"))
            let sourceACLs = try Self.acls(of: source, in: work)
            let storedACLs = try Self.acls(of: root + "/xo", in: work)
            #expect(storedACLs == sourceACLs, "stored:\n\(storedACLs)\nsource:\n\(sourceACLs)")
        }

        @Test("with --no-xattrs (HELLO without xattrs, as an old client) nothing of the attributes is sent or stored")
        func oldClient() throws {
            let work = try TemporaryDirectory("xattrs-off")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source, in: work)
            let server = try ServerProcess(root: root, in: work)
            let result = try runClient(["--source", source, "--id", "xn", "--no-xattrs"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try Self.attributes(of: root + "/xn", in: work) == "")
            #expect(
                Array(try Data(contentsOf: URL(fileURLWithPath: root + "/xn/docs/a.txt"))) == Array("attributed".utf8))
        }

        @Test("--xattrs (the default, said outright) stores them; with --no-xattrs too it is a usage error")
        func explicitFlag() throws {
            let work = try TemporaryDirectory("xattrs-on")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source, in: work)
            let server = try ServerProcess(root: root, in: work)
            let both = try runClient(
                ["--source", source, "--id", "xy", "--xattrs", "--no-xattrs"] + server.connect, in: work)
            #expect(both.status == 64, "\(both.stderr)")
            let result = try runClient(["--source", source, "--id", "xy", "--xattrs"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try Self.attributes(of: root + "/xy", in: work) == Self.attributes(of: source, in: work))
        }

        @Test("a session without xattrs in force ignores the field: nothing a client claims is applied")
        func oldCapabilitySession() throws {
            let setup = try HostileSessionTests.Setup("xattrs-old")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(id: "old", server: setup.server, folder: setup.work, capabilities: ["metadata"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["metadata"])
            var entry = ManifestEntry(path: "f.txt", type: .file, size: 4, mtimeNs: 1, mode: 0o644, uid: 0, gid: 0)
            entry.xattrs = [ExtendedAttribute(name: "user.claimed", value: Array("yes".utf8))]
            try raw.send(.filesInfo(FilesInfo(entries: [entry], final: true)))
            guard case .tasks(let tasks)? = try raw.receive() else { throw TestFailure("no TASKS") }
            #expect(tasks.tasks.map(\.path) == ["f.txt"])
            try Self.sendFile("f.txt", Array("data".utf8), over: raw)
            try raw.send(.done(Done()))
            while let message = try raw.receive() { if case .nextSync = message { break } }
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: setup.root + "/old/f.txt"))) == Array("data".utf8))
            #expect(try Self.attributes(of: setup.root + "/old", in: setup.work) == "")
        }

        @Test("an attribute of 10 MB is refused with its entry (limitExceeded); the rest of the backup goes on")
        func oversized() throws {
            let setup = try HostileSessionTests.Setup("xattrs-big")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(
                id: "big", server: setup.server, folder: setup.work, capabilities: ["metadata", "xattrs"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["metadata", "xattrs"])
            var big = ManifestEntry(path: "big.txt", type: .file, size: 4, mtimeNs: 1, mode: 0o644, uid: 0, gid: 0)
            big.xattrs = [ExtendedAttribute(name: "user.huge", value: [UInt8](repeating: 7, count: 10_000_000))]
            var fine = ManifestEntry(path: "ok.txt", type: .file, size: 4, mtimeNs: 1, mode: 0o644, uid: 0, gid: 0)
            fine.xattrs = [ExtendedAttribute(name: "user.small", value: Array("ok".utf8))]
            try raw.send(.filesInfo(FilesInfo(entries: [big, fine], final: true)))
            guard case .tasks(let tasks)? = try raw.receive() else { throw TestFailure("no TASKS") }
            #expect(tasks.tasks.map(\.path) == ["ok.txt"])
            #expect(tasks.rejected?.map(\.path) == ["big.txt"])
            #expect(tasks.rejected?.first?.error?.code == "limitExceeded")
            #expect(tasks.rejected?.first?.error?.message.contains("user.huge has 10000000 bytes") == true)
            try Self.sendFile("ok.txt", Array("data".utf8), over: raw)
            try raw.send(.done(Done()))
            var next: NextSync?
            while let message = try raw.receive() {
                if case .nextSync(let value) = message { next = value }
            }
            #expect(next?.failed == 1)
            #expect(FileManager.default.fileExists(atPath: setup.root + "/big/big.txt") == false)
            #expect(try Self.attributes(of: setup.root + "/big", in: setup.work).contains("user.small=0x6f6b"))
            try setup.normalBackupSucceeds()
        }

        static func sendFile(_ path: String, _ content: [UInt8], over raw: RawConnection) throws {
            try raw.send(
                .fileHeader(FileHeader(path: path, size: Int64(content.count), mtimeNs: 1, mode: 0o644)))
            try raw.sendData(content)
            try raw.send(.fileEnd(FileEnd(sha256: content.withUnsafeBytes { ChunkHash(of: $0) }.description)))
        }
    }
}
