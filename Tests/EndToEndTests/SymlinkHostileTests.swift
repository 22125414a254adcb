import FileSyncCore
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Symlinks from a hostile client, symlinks planted in the server's tree, and peers without
    /// `metadata` (Protocol.md §4, §6.6, §11.3).
    @Suite("Symlinks: hostile input and old peers") struct SymlinkHostileTests {
        typealias Setup = HostileSessionTests.Setup

        static func link(_ path: String, to target: String) -> ManifestEntry {
            ManifestEntry(
                path: path, type: .symlink, size: Int64(target.utf8.count), mtimeNs: 1, mode: 0o777, target: target)
        }

        @Test("a client without metadata that sends a symlink entry gets ERROR malformedMessage; nothing is made")
        func oldClientSymlink() throws {
            let setup = try Setup("old-symlink")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(id: "old", server: setup.server, folder: setup.work, capabilities: ["resume"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(!ready.capabilities.contains("metadata"))
            try raw.send(.filesInfo(FilesInfo(entries: [Self.link("l", to: setup.world)], final: true)))
            guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR") }
            #expect(error.code == "malformedMessage")
            #expect(FileManager.default.fileExists(atPath: setup.root + "/old/l") == false)
            try setup.normalBackupSucceeds()
        }

        @Test(
            "a manifest claiming a symlink above files it then sends: the files are refused, nothing lands outside",
            arguments: [false, true])
        func filesBelowASymlink(linkFirst: Bool) throws {
            let setup = try Setup("below-link")
            let before = setup.outsideRoot
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(id: "evil", server: setup.server, folder: setup.work, capabilities: ["metadata"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["metadata"])
            let link = Self.link("door", to: setup.world)
            let file = ManifestEntry(path: "door/planted.txt", type: .file, size: 4, mtimeNs: 1, mode: 0o644)
            try raw.send(.filesInfo(FilesInfo(entries: linkFirst ? [link, file] : [file, link], final: true)))
            guard case .tasks(let tasks)? = try raw.receive() else { throw TestFailure("no TASKS") }
            if linkFirst {
                #expect(tasks.tasks.isEmpty)
                #expect(tasks.rejected?.map(\.path) == ["door/planted.txt"])
                #expect(tasks.rejected?.first?.error?.code == "typeConflict")
                try raw.send(.done(Done()))
            } else {
                // Listed first, the file is planned; whichever of the two is made first, the other fails.
                #expect(tasks.tasks.map(\.path) == ["door/planted.txt"])
                let content = Array("evil".utf8)
                try raw.send(.fileHeader(FileHeader(path: "door/planted.txt", size: 4, mtimeNs: 1, mode: 0o644)))
                try raw.sendData(content)
                try raw.send(.fileEnd(FileEnd(sha256: content.withUnsafeBytes { ChunkHash(of: $0) }.description)))
                try raw.send(.done(Done()))
            }
            var next: NextSync?
            while let message = try raw.receive() {
                if case .nextSync(let value) = message { next = value }
            }
            #expect(next?.failed == 1)
            #expect(setup.outsideRoot == before, "written outside the root: \(setup.outsideRoot.subtracting(before))")
            try setup.normalBackupSucceeds()
        }

        @Test("symlinks planted in the stored tree are never followed: writing beside, deleting, deltas, restore")
        func plantedSymlinks() throws {
            let setup = try Setup("planted")
            let outside = try setup.work.subfolder("world/outside")
            try SampleTree.write(Array("SECRET".utf8), to: outside + "/secret.txt")
            try SampleTree.writeLarge(3 << 20, to: outside + "/big.bin", seed: 5)
            let outsideBefore = try StatTree(of: setup.world + "/outside")
            let source = try setup.work.subfolder("source")
            try FileManager.default.createDirectory(atPath: source + "/docs", withIntermediateDirectories: true)
            try SampleTree.write(Array("SECRET".utf8.map { $0 + 1 }), to: source + "/docs/a.txt")
            try SampleTree.writeLarge(3 << 20, to: source + "/big.bin", seed: 9)
            let client = HistoryClient(server: setup.server, work: setup.work)
            try client.backup(source, id: "victim", extra: ["--delete"])
            let stored = setup.root + "/victim"
            let manager = FileManager.default
            // Beside and below: a link where the client now has a folder, and one next to its files.
            try manager.createSymbolicLink(atPath: stored + "/docs/inbox", withDestinationPath: outside)
            try manager.createSymbolicLink(atPath: stored + "/docs/beside", withDestinationPath: outside)
            try manager.createDirectory(atPath: source + "/docs/inbox", withIntermediateDirectories: true)
            try SampleTree.write(Array("new".utf8), to: source + "/docs/inbox/secret.txt")
            try SampleTree.write(Array("next".utf8), to: source + "/docs/next.txt")
            // Deltas: the stored large file becomes a link to another large file outside.
            try manager.removeItem(atPath: stored + "/big.bin")
            try manager.createSymbolicLink(atPath: stored + "/big.bin", withDestinationPath: outside + "/big.bin")
            try SampleTree.overwriteInPlace(source + "/big.bin", seed: 11)
            try client.backup(source, id: "victim", extra: ["--delete"])

            #expect(try StatTree(of: setup.world + "/outside") == outsideBefore, "something outside changed")
            let after = try StatTree(of: stored)
            #expect(after.entries["docs/beside"] == nil, "--delete removes the planted link itself")
            #expect(after.entries["docs/inbox"]?.type == "dir")
            #expect(after.entries["big.bin"]?.sha256 == (try TreeSnapshot.sha256(of: source + "/big.bin")))

            // Restore: a stored file replaced by a link to a secret of the same size is never read.
            try manager.removeItem(atPath: stored + "/docs/a.txt")
            try manager.createSymbolicLink(atPath: stored + "/docs/a.txt", withDestinationPath: outside + "/secret.txt")
            let target = try setup.work.subfolder("restored")
            let result = try client.restore(id: "victim", to: target)
            let restored = (try? TreeSnapshot.sha256(of: target + "/docs/a.txt")) ?? "none"
            #expect(restored != (try TreeSnapshot.sha256(of: outside + "/secret.txt")))
            #expect(result.status == 0 || result.status == 23, "\(result.stderr)")
            #expect(try StatTree(of: setup.world + "/outside") == outsideBefore, "something outside changed")
        }

        @Test("a restore client without metadata gets the snapshot's files and folders only, as before")
        func oldRestoreClient() throws {
            let setup = try Setup("old-restore")
            let source = try setup.work.subfolder("source")
            try SampleTree.write(Array("x".utf8), to: source + "/file.txt")
            try FileManager.default.createSymbolicLink(atPath: source + "/link", withDestinationPath: "file.txt")
            try HistoryClient(server: setup.server, work: setup.work).backup(source, id: "mixed")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(
                id: "mixed", server: setup.server, folder: setup.work, capabilities: ["history"], session: .restore)
            guard case .ready? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            try raw.send(.restore(Restore()))
            guard case .restoreList(let list)? = try raw.receive() else { throw TestFailure("no RESTORE_LIST") }
            #expect(list.entries.map(\.path) == ["file.txt"])
            // Nothing wanted: the session ends at once, and the next one gets its turn.
            try raw.send(.restoreWant(RestoreWant(files: [], final: true)))
            while try raw.receive() != nil {}

            let modern = try RawConnection(port: setup.server.port)
            try modern.authenticate(
                id: "mixed", server: setup.server, folder: setup.work, capabilities: ["history", "metadata"],
                session: .restore)
            guard case .ready? = try modern.receiveSkippingQueue() else { throw TestFailure("no READY") }
            try modern.send(.restore(Restore()))
            guard case .restoreList(let full)? = try modern.receive() else { throw TestFailure("no RESTORE_LIST") }
            #expect(full.entries.map(\.type).sorted() == ["file", "symlink"])
            #expect(full.entries.first { $0.type == "symlink" }?.target == "file.txt")
        }
    }
}
