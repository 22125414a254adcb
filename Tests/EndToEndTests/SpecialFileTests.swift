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

        /// Runs the server in a user namespace of its own, as its root: it may do all a root user
        /// may to the files, but not make a device (`EPERM`), as a server run by another user.
        static let withoutDevicePrivilege = ["/usr/bin/unshare", "--user", "--map-root-user", "--"]

        static func isDevice(_ path: String) -> Bool {
            status(path).map { $0.st_mode & S_IFMT == S_IFCHR && UInt64($0.st_rdev) == nullDevice } == true
        }

        @Test(
            "a server that may not make devices records them in its snapshots, fails none, and mirrors deletions",
            .enabled(if: Harness.isRoot, "needs root (mknod of the source's device); skipped"),
            .enabled(if: Harness.hasUserNamespaces, "needs user namespaces (unshare --user); skipped"))
        func deviceRecordedInSnapshotsOnly() throws {
            let work = try TemporaryDirectory("specials-unprivileged")
            let (source, root) = (try work.subfolder("source"), try work.subfolder("root"))
            try Self.makeTree(at: source)
            try SampleTree.write(Array("going".utf8), to: source + "/gone.txt")
            let server = try ServerProcess(root: root, in: work, launcher: Self.withoutDevicePrivilege)
            let backup = ["--source", source, "--id", "sp", "--json"] + server.connect
            let first = try runClient(backup, in: work)
            #expect(first.status == 0, "\(first.stderr)")
            #expect((try first.json()["failed"] as? [Any])?.isEmpty == true, "\(first.stdout)")
            #expect(Self.status(root + "/sp/dev/null") == nil, "the stored tree holds no device it could not make")
            #expect(Self.status(root + "/sp/pipe").map { $0.st_mode & S_IFMT == S_IFIFO } == true)
            #expect(
                try String(contentsOf: server.logURL, encoding: .utf8).contains("devices recorded in the snapshot only")
            )

            // Nothing failed, so deletions are mirrored; the device is recorded again, not counted as updated.
            try FileManager.default.removeItem(atPath: source + "/gone.txt")
            let second = try runClient(backup + ["--delete"], in: work)
            #expect(second.status == 0, "\(second.stderr)")
            let summary = try second.json()
            #expect((summary["failed"] as? [Any])?.isEmpty == true, "\(second.stdout)")
            #expect(summary["metadataUpdated"] as? Int == 0, "\(second.stdout)")
            #expect(summary["deleted"] as? Int == 1, "\(second.stdout)")
            #expect(Self.status(root + "/sp/gone.txt") == nil)

            // A node that becomes a device: the stored node goes, the device is recorded in its place.
            try FileManager.default.removeItem(atPath: source + "/dev/sock")
            #expect(mknod(source + "/dev/sock", S_IFCHR | 0o600, dev_t(Self.nullDevice)) == 0)
            let third = try runClient(backup, in: work)
            #expect(third.status == 0, "\(third.stderr)")
            #expect(Self.status(root + "/sp/dev/sock") == nil)

            let history = HistoryClient(server: server, work: work)
            let snapshots = try history.snapshots(id: "sp").compactMap { $0["id"] as? String }
            #expect(snapshots.count == 3)
            for (index, snapshot) in snapshots.enumerated() {
                let target = try work.subfolder("restored-" + snapshot)
                let restored = try history.restore(id: "sp", to: target, ["--snapshot", snapshot])
                #expect(restored.status == 0, "\(restored.stderr)")
                #expect(Self.isDevice(target + "/dev/null"), "snapshot \(snapshot)")
                let (made, original) = (Self.status(target + "/dev/null"), Self.status(source + "/dev/null"))
                #expect(made?.st_mode == original?.st_mode && made?.st_mtim.tv_nsec == original?.st_mtim.tv_nsec)
                #expect(made?.st_uid == original?.st_uid && made?.st_gid == original?.st_gid)
                #expect(Self.status(target + "/pipe").map { $0.st_mode & S_IFMT == S_IFIFO } == true)
                let socket = Self.status(target + "/dev/sock").map { $0.st_mode & S_IFMT }
                #expect(socket == (index == 2 ? S_IFCHR : S_IFSOCK), "snapshot \(snapshot)")
            }
        }

        @Test(
            "a server without history that may not make a device fails it, as before",
            .enabled(if: Harness.isRoot, "needs root (mknod of the source's device); skipped"),
            .enabled(if: Harness.hasUserNamespaces, "needs user namespaces (unshare --user); skipped"))
        func deviceFailsWithoutHistory() throws {
            let work = try TemporaryDirectory("specials-no-history")
            let (source, root) = (try work.subfolder("source"), try work.subfolder("root"))
            try Self.makeTree(at: source)
            let server = try ServerProcess(
                root: root, in: work, extra: ["--no-history"], launcher: Self.withoutDevicePrivilege)
            let result = try runClient(["--source", source, "--id", "sp", "--json"] + server.connect, in: work)
            #expect(result.status != 0)
            let failed = try result.json()["failed"] as? [[String: Any]] ?? []
            #expect(failed.map { $0["path"] as? String } == ["dev/null"], "\(result.stdout)")
            #expect(Self.status(root + "/sp/pipe").map { $0.st_mode & S_IFMT == S_IFIFO } == true)
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
