import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// FIFOs, sockets and devices (capability `specials`, Protocol.md §6.10): recorded, stored and
    /// snapshotted as nodes, never opened (a FIFO opened for reading would hang the run), recreated
    /// by a restore where they can be.
    @Suite("Special files") struct SpecialFileTests {
        /// `/dev/null`'s number (major 1, minor 3).
        static let nullDevice: UInt64 = 0x103

        static func status(_ path: String) -> stat? {
            var info = stat()
            return lstat(path, &info) == 0 ? info : nil
        }

        static func makeTree(at source: String) throws {
            try FileManager.default.createDirectory(atPath: source + "/dev", withIntermediateDirectories: true)
            try SampleTree.write(Array("plain".utf8), to: source + "/file.txt")
            #expect(mkfifo(source + "/pipe", 0o640) == 0)
            #expect(mknod(source + "/dev/sock", S_IFSOCK | 0o755, 0) == 0)
            #expect(mknod(source + "/dev/null", S_IFCHR | 0o666, dev_t(Self.nullDevice)) == 0)
        }

        @Test(
            "a FIFO, a socket and a device are stored as nodes; a restore makes them all again",
            .enabled(if: Harness.isRoot, "needs root (mknod of a device); skipped"))
        func roundTrip() throws {
            let work = try TemporaryDirectory("specials")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.makeTree(at: source)
            let server = try ServerProcess(root: root, in: work)
            let result = try runClient(["--source", source, "--id", "sp", "--json"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect((try result.json()["warnings"] as? [Any])?.isEmpty ?? true, "\(result.stdout)")
            let pipe = Self.status(root + "/sp/pipe")
            #expect(pipe.map { $0.st_mode & S_IFMT == S_IFIFO && $0.st_mode & 0o7777 == 0o640 } == true)
            #expect(Self.status(root + "/sp/dev/sock").map { $0.st_mode & S_IFMT == S_IFSOCK } == true)
            let device = Self.status(root + "/sp/dev/null")
            #expect(device.map { $0.st_mode & S_IFMT == S_IFCHR && UInt64($0.st_rdev) == Self.nullDevice } == true)
            #expect(device?.st_mtim.tv_sec == Self.status(source + "/dev/null")?.st_mtim.tv_sec)

            // A second run changes nothing: the nodes are current.
            let second = try runClient(["--source", source, "--id", "sp", "--json"] + server.connect, in: work)
            #expect(try second.json()["metadataUpdated"] as? Int == 0)

            let target = try work.subfolder("restored")
            let restored = try HistoryClient(server: server, work: work).restore(id: "sp", to: target)
            #expect(restored.status == 0, "\(restored.stderr)")
            let summary = try restored.json()
            #expect(summary["specials"] as? Int == 3)
            #expect((summary["specialsSkipped"] as? [Any])?.isEmpty ?? true, "\(summary)")
            #expect(Self.status(target + "/pipe").map { $0.st_mode & S_IFMT == S_IFIFO } == true)
            let restoredDevice = Self.status(target + "/dev/null")
            #expect(
                restoredDevice.map { $0.st_mode & S_IFMT == S_IFCHR && UInt64($0.st_rdev) == Self.nullDevice } == true)
            #expect(restoredDevice?.st_mode == Self.status(source + "/dev/null")?.st_mode)
            let socket = Self.status(target + "/dev/sock")
            #expect(socket.map { $0.st_mode & S_IFMT == S_IFSOCK } == true)
            #expect(socket?.st_mode == Self.status(source + "/dev/sock")?.st_mode)
            #expect(socket?.st_mtim.tv_sec == Self.status(source + "/dev/sock")?.st_mtim.tv_sec)
        }

        @Test("a session without specials in force: a special entry is a session error, nothing is made")
        func oldPeers() throws {
            let setup = try HostileSessionTests.Setup("specials-old")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(id: "old", server: setup.server, folder: setup.work, capabilities: ["metadata"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["metadata"])
            let node = ManifestEntry(path: "pipe", type: .special, size: 0, mtimeNs: 1, mode: 0o600, special: .fifo)
            try raw.send(.filesInfo(FilesInfo(entries: [node], final: true)))
            guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR") }
            #expect(error.code == "malformedMessage")
            #expect(Self.status(setup.root + "/old/pipe") == nil)
            try setup.normalBackupSucceeds()
        }

        @Test("with specials in force a FIFO entry needs no task: it is made as a FIFO while the session runs")
        func fifoWithoutTask() throws {
            let setup = try HostileSessionTests.Setup("specials-dev")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(
                id: "dev", server: setup.server, folder: setup.work, capabilities: ["metadata", "specials"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["metadata", "specials"])
            let pipe = ManifestEntry(path: "pipe", type: .special, size: 0, mtimeNs: 1, mode: 0o600, special: .fifo)
            try raw.send(.filesInfo(FilesInfo(entries: [pipe], final: true)))
            guard case .tasks(let tasks)? = try raw.receive() else { throw TestFailure("no TASKS") }
            #expect(tasks.tasks.isEmpty && tasks.rejected == nil)
            try raw.send(.done(Done()))
            var next: NextSync?
            while let message = try raw.receive() {
                if case .nextSync(let value) = message { next = value }
            }
            #expect(next?.failed == 0)
            #expect(Self.status(setup.root + "/dev/pipe").map { $0.st_mode & S_IFMT == S_IFIFO } == true)
        }
    }
}
