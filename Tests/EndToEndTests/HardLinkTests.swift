import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Hard links (capability `hardlinks`, Protocol.md §6.11): one file's names are sent once,
    /// stored and restored as links of one file; a link may only name a file of the same manifest.
    @Suite("Hard links") struct HardLinkTests {
        static func inode(_ path: String) -> (inode: UInt64, links: UInt64)? {
            var info = stat()
            return lstat(path, &info) == 0 ? (UInt64(info.st_ino), UInt64(info.st_nlink)) : nil
        }

        static func content(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

        @Test(
            "three names of one file: sent once, stored as one file's links, restored as links; a new version follows")
        func roundTrip() throws {
            let work = try TemporaryDirectory("hardlinks")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: source + "/other", withIntermediateDirectories: true)
            try SampleTree.writeLarge(512 << 10, to: source + "/dir/a.bin", seed: 7)
            #expect(link(source + "/dir/a.bin", source + "/dir/b.bin") == 0)
            #expect(link(source + "/dir/a.bin", source + "/other/c.bin") == 0)
            try SampleTree.write(Array("alone".utf8), to: source + "/x.txt")
            let server = try ServerProcess(root: root, in: work)
            let first = try runClient(["--source", source, "--id", "hl", "--json"] + server.connect, in: work)
            #expect(first.status == 0, "\(first.stderr)")
            let wire = try first.json()["bytesOnWire"] as? Int ?? -1
            #expect(wire > 512 << 10 && wire < 768 << 10, "one copy of 512 KiB expected on the wire: \(wire)")
            let stored = root + "/hl"
            let inode = Self.inode(stored + "/dir/a.bin")
            #expect(inode?.links == 3)
            #expect(Self.inode(stored + "/dir/b.bin")?.inode == inode?.inode)
            #expect(Self.inode(stored + "/other/c.bin")?.inode == inode?.inode)
            #expect(try Self.content(stored + "/other/c.bin") == Self.content(source + "/dir/a.bin"))

            // A new version written in place: every name has it, still one file on the server.
            let fresh = try work.subfolder("fresh") + "/a.bin"
            try SampleTree.writeLarge(512 << 10, to: fresh, seed: 8)
            let handle = try #require(FileHandle(forWritingAtPath: source + "/dir/a.bin"))
            try handle.write(contentsOf: try Self.content(fresh))
            try handle.close()
            #expect(Self.inode(source + "/other/c.bin")?.links == 3)
            let second = try runClient(["--source", source, "--id", "hl"] + server.connect, in: work)
            #expect(second.status == 0, "\(second.stderr)")
            let renewed = Self.inode(stored + "/dir/a.bin")
            #expect(renewed?.links == 3)
            #expect(Self.inode(stored + "/other/c.bin")?.inode == renewed?.inode)
            #expect(try Self.content(stored + "/other/c.bin") == Self.content(source + "/dir/a.bin"))

            let target = try work.subfolder("restored")
            let restored = try HistoryClient(server: server, work: work).restore(id: "hl", to: target)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try restored.json()["hardlinks"] as? Int == 2)
            let back = Self.inode(target + "/dir/a.bin")
            #expect(back?.links == 3)
            #expect(Self.inode(target + "/dir/b.bin")?.inode == back?.inode)
            #expect(Self.inode(target + "/other/c.bin")?.inode == back?.inode)
            #expect(try Self.content(target + "/other/c.bin") == Self.content(source + "/dir/a.bin"))
            #expect(Self.inode(target + "/x.txt")?.links == 1)
        }

        @Test("a restore run again after a failed file takes the links and FIFO its first run made as its own")
        func restoreRerun() throws {
            let work = try TemporaryDirectory("hardlinks-rerun")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("linked".utf8), to: source + "/a.txt")
            #expect(link(source + "/a.txt", source + "/b.txt") == 0)
            #expect(mkfifo(source + "/pipe", 0o644) == 0)
            try SampleTree.write(Array("zzz".utf8), to: source + "/z.txt")
            let server = try ServerProcess(root: root, in: work)
            #expect(try runClient(["--source", source, "--id", "rr"] + server.connect, in: work).status == 0)
            // The stored z.txt damaged in place (same inode, size and times): the first restore fails
            // that file alone.
            let stored = root + "/rr/z.txt"
            var info = stat()
            #expect(lstat(stored, &info) == 0)
            let overwrite = { (text: String) throws in
                let handle = try #require(FileHandle(forWritingAtPath: stored))
                try handle.write(contentsOf: Data(text.utf8))
                try handle.close()
                var times = [info.st_atim, info.st_mtim]
                #expect(utimensat(AT_FDCWD, stored, &times, 0) == 0)
            }
            try overwrite("zzZ")
            let target = try work.subfolder("restored")
            let history = HistoryClient(server: server, work: work)
            let first = try history.restore(id: "rr", to: target)
            #expect(first.status != 0, "\(first.stdout)")
            #expect(Self.inode(target + "/b.txt")?.inode == Self.inode(target + "/a.txt")?.inode)
            #expect(FileManager.default.fileExists(atPath: target + "/pipe"))
            #expect(!FileManager.default.fileExists(atPath: target + "/z.txt"))

            try overwrite("zzz")
            let again = try history.restore(id: "rr", to: target)
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
            #expect(try Self.content(target + "/z.txt") == Data("zzz".utf8))
            let inode = Self.inode(target + "/a.txt")
            #expect(inode?.links == 2 && Self.inode(target + "/b.txt")?.inode == inode?.inode)
            let names = try FileManager.default.contentsOfDirectory(atPath: target).sorted()
            #expect(names == ["a.txt", "b.txt", "pipe", "z.txt"], "\(names)")
        }

        @Test("a link to a previous session's file is refused (typeConflict); one outside the folder is malformed")
        func hostile() throws {
            let setup = try HostileSessionTests.Setup("hardlinks-hostile")
            let source = try setup.work.subfolder("source")
            try SampleTree.write(Array("mine".utf8), to: source + "/old.txt")
            #expect(
                try runClient(["--source", source, "--id", "evil"] + setup.server.connect, in: setup.work).status == 0)
            let before = setup.outsideRoot

            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(
                id: "evil", server: setup.server, folder: setup.work, capabilities: ["metadata", "hardlinks"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["metadata", "hardlinks"])
            let steal = ManifestEntry(
                path: "steal", type: .hardlink, size: 0, mtimeNs: 1, mode: 0o644, target: "old.txt", uid: 0, gid: 0)
            try raw.send(.filesInfo(FilesInfo(entries: [steal], final: true)))
            guard case .tasks(let tasks)? = try raw.receive() else { throw TestFailure("no TASKS") }
            #expect(tasks.rejected?.map(\.path) == ["steal"])
            #expect(tasks.rejected?.first?.error?.code == "typeConflict")
            try raw.send(.done(Done()))
            var next: NextSync?
            while let message = try raw.receive() {
                if case .nextSync(let value) = message { next = value }
            }
            #expect(next?.failed == 1)
            #expect(Self.inode(setup.root + "/evil/steal") == nil)

            let outside = try RawConnection(port: setup.server.port)
            try outside.authenticate(
                id: "evil", server: setup.server, folder: setup.work, capabilities: ["metadata", "hardlinks"])
            guard case .ready? = try outside.receiveSkippingQueue() else { throw TestFailure("no READY") }
            let escape = ManifestEntry(
                path: "escape", type: .hardlink, size: 0, mtimeNs: 1, mode: 0o644, target: "../precious.txt", uid: 0,
                gid: 0)
            try outside.send(.filesInfo(FilesInfo(entries: [escape], final: true)))
            guard case .error(let error)? = try outside.receive() else { throw TestFailure("no ERROR") }
            #expect(error.code == "malformedMessage")
            #expect(Self.inode(setup.world + "/precious.txt")?.links == 1)
            #expect(setup.outsideRoot == before)
            try setup.normalBackupSucceeds()
        }
    }
}
