import FileSyncCore
import FileSyncSystem
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Resume rules") struct ResumeTests {
        /// Leaves a partial of `path` (the first `sent` bytes of `content`) by starting a transfer
        /// over a raw connection and hanging up.
        static func leavePartial(
            _ server: ServerProcess, _ folder: TemporaryDirectory, id: String, path: String, content: [UInt8],
            mtimeNs: Int64, sent: Int
        ) throws {
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(id: id, server: server, folder: folder)
            guard case .ready? = try raw.receiveSkippingQueue() else { throw TestFailure("not ready") }
            let size = Int64(content.count)
            try raw.send(
                .filesInfo(
                    FilesInfo(
                        entries: [ManifestEntry(path: path, type: .file, size: size, mtimeNs: mtimeNs, mode: 0o644)],
                        final: true)))
            guard case .tasks? = try raw.receive() else { throw TestFailure("no TASKS") }
            try raw.send(.fileHeader(FileHeader(path: path, size: size, mtimeNs: mtimeNs, mode: 0o644)))
            for start in stride(from: 0, to: sent, by: ProtocolLimits.maxDataPayload) {
                try raw.sendData(Array(content[start..<min(sent, start + ProtocolLimits.maxDataPayload)]))
            }
            // A control message after the data: once the server answers it, the data is written.
            try raw.send(.done(Done()))
            guard case .error? = try raw.receive() else { throw TestFailure("DONE inside a file must be refused") }
        }

        static func partials(_ root: String, _ id: String) -> [String] {
            listing(of: root + "/.filesync/\(id)/partial").filter { $0.hasSuffix(".part") }.sorted()
        }

        static func mtimeNs(_ path: String) throws -> Int64 {
            var info = stat()
            guard stat(path, &info) == 0 else { throw TestFailure("cannot stat \(path)") }
            return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        }

        @Test("a file whose first bytes changed (same size and mtime) is sent from the start, not resumed")
        func changedPrefixStartsOver() throws {
            let work = try TemporaryDirectory("prefix")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let file = source + "/doc.bin"
            try SampleTree.writeLarge(3 << 20, to: file, seed: 1)
            let server = try ServerProcess(root: root, in: work, tls: false)
            let original = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
            let mtime = try Self.mtimeNs(file)
            try Self.leavePartial(
                server, work, id: "p", path: "doc.bin", content: original, mtimeNs: mtime, sent: 1 << 20)
            #expect(Self.partials(root, "p").count == 1)

            // Same size, same mtime, different first bytes: the server's offer must be refused.
            try SampleTree.overwriteInPlace(file, seed: 2)
            var times = [timespec(tv_sec: Int(mtime / 1_000_000_000), tv_nsec: Int(mtime % 1_000_000_000)), timespec()]
            times[1] = times[0]
            utimensat(AT_FDCWD, file, &times, 0)
            let result = try runClient(
                ["--source", source, "--id", "p"] + server.connect + ["--json"], in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try result.json()["bytesResumed"] as? Int == 0)
            #expect(try TreeSnapshot.sha256(of: root + "/p/doc.bin") == TreeSnapshot.sha256(of: file))
            #expect(Self.partials(root, "p").isEmpty)
        }

        @Test("an unchanged file is resumed from the partial after the server restarts")
        func resumedAfterRestart() throws {
            let work = try TemporaryDirectory("restart")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let file = source + "/doc.bin"
            try SampleTree.writeLarge(3 << 20, to: file, seed: 4)
            var server = try ServerProcess(root: root, in: work, tls: false)
            try Self.leavePartial(
                server, work, id: "q", path: "doc.bin",
                content: try Array(Data(contentsOf: URL(fileURLWithPath: file))),
                mtimeNs: try Self.mtimeNs(file), sent: 2 << 20)
            server.stop()
            server = try ServerProcess(root: root, in: work, tls: false)
            let result = try runClient(
                ["--source", source, "--id", "q"] + server.connect + ["--json"], in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try result.json()["bytesResumed"] as? Int == 2 << 20)
            #expect(try TreeSnapshot.sha256(of: root + "/q/doc.bin") == TreeSnapshot.sha256(of: file))
        }

        @Test("a large file completed by resuming is cataloged: a byte changed in it later travels as a delta")
        func resumedFileIsCataloged() throws {
            let work = try TemporaryDirectory("resumed-catalog")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let file = source + "/disk.img"
            let size = 64 << 20
            try SampleTree.writeLarge(size, to: file, seed: 12)
            let server = try ServerProcess(root: root, in: work, tls: false)
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            try Self.leavePartial(
                server, work, id: "r", path: "disk.img", content: bytes, mtimeNs: try Self.mtimeNs(file),
                sent: 24 << 20)
            let resumed = try runClient(["--source", source, "--id", "r"] + server.connect + ["--json"], in: work)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try resumed.json()["bytesResumed"] as? Int == 24 << 20)

            bytes[size / 2] ^= 0xFF
            try SampleTree.write(bytes, to: file)
            let changed = try runClient(["--source", source, "--id", "r"] + server.connect + ["--json"], in: work)
            #expect(changed.status == 0, "\(changed.stderr)")
            let wire = try changed.json()["bytesOnWire"] as? Int ?? Int.max
            #expect(wire < size / 100, "changed byte after a resumed transfer: \(wire) bytes on the wire")
            #expect(try TreeSnapshot.sha256(of: root + "/r/disk.img") == TreeSnapshot.sha256(of: file))
        }

        @Test("partials of files no longer in the manifest, and expired ones, are deleted")
        func stalePartialsCleaned() throws {
            let work = try TemporaryDirectory("stale")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let file = source + "/kept.bin"
            try SampleTree.writeLarge(2 << 20, to: file, seed: 5)
            let server = try ServerProcess(root: root, in: work, tls: false, extra: ["--partial-expiry", "1h"])

            // A partial of a file the client no longer has goes at the client's next session.
            try Self.leavePartial(
                server, work, id: "z", path: "gone.bin", content: [UInt8](repeating: 9, count: 2 << 20),
                mtimeNs: 5, sent: 1 << 20)
            #expect(Self.partials(root, "z").count == 1)
            let first = try runClient(
                ["--source", source, "--id", "z"] + server.connect + ["--json"], in: work)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(Self.partials(root, "z").isEmpty, "left: \(Self.partials(root, "z"))")

            // A partial two hours old is past the 1 h expiry: deleted, not resumed.
            try SampleTree.writeLarge(2 << 20, to: file, seed: 6)
            let content = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
            try Self.leavePartial(
                server, work, id: "z", path: "kept.bin", content: content, mtimeNs: try Self.mtimeNs(file),
                sent: 1 << 20)
            let partials = Self.partials(root, "z")
            #expect(partials.count == 1)
            let old = timespec(tv_sec: time(nil) - 7200, tv_nsec: 0)
            var times = [old, old]
            for name in partials { utimensat(AT_FDCWD, root + "/.filesync/z/partial/" + name, &times, 0) }
            let second = try runClient(
                ["--source", source, "--id", "z"] + server.connect + ["--json"], in: work)
            #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
            #expect(try second.json()["bytesResumed"] as? Int == 0)
            #expect(Self.partials(root, "z").isEmpty, "left: \(Self.partials(root, "z"))")
            #expect(try TreeSnapshot(of: root + "/z") == TreeSnapshot(of: source))
        }

        @Test("SIGTERM during a transfer stops the server cleanly; the partial it kept is resumed after the restart")
        func gracefulStop() throws {
            let work = try TemporaryDirectory("sigterm")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.writeLarge(24 << 20, to: source + "/big.bin", seed: 12)
            var server = try ServerProcess(root: root, in: work)
            let client = try Command(
                Harness.client,
                ["--source", source, "--id", "g", "--bwlimit", "6M", "--retries", "0"] + server.connect,
                in: work)
            // Wait (bounded) until part of the file has arrived.
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let sizes = Self.partials(root, "g").compactMap {
                    try? FileManager.default.attributesOfItem(atPath: root + "/.filesync/g/partial/" + $0)[.size]
                        as? Int
                }
                if sizes.contains(where: { $0 > 2 << 20 }) { break }
                usleep(20_000)
            }
            let stopped = Date()
            server.process.terminate()
            server.process.waitUntilExit()
            #expect(server.process.terminationStatus == 0, "the server did not exit cleanly on SIGTERM")
            #expect(Date().timeIntervalSince(stopped) < 6)
            #expect(client.wait(timeout: 30).status == 75)
            #expect(Self.partials(root, "g").count == 1, "the partial was not kept")
            #expect(!FileManager.default.fileExists(atPath: root + "/g/big.bin"))

            server = try ServerProcess(root: root, in: work)
            let result = try runClient(["--source", source, "--id", "g", "--json"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect((try result.json()["bytesResumed"] as? Int ?? 0) > 2 << 20)
            #expect(try TreeSnapshot(of: root + "/g") == TreeSnapshot(of: source))
        }

        @Test("a peer trickling a frame byte by byte is dropped at the handshake timeout (no slowloris)")
        func slowloris() throws {
            let work = try TemporaryDirectory("slow")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, tls: false, extra: ["--handshake-timeout", "1s"])
            var hello = ByteBuffer()
            hello.writeFrame(try Message.hello(.init(clientId: "slow", capabilities: [])).frame())
            let bytes = Array(hello.readableBytesView)
            let raw = try RawConnection(port: server.port)
            let started = Date()
            var sent = 0
            // One byte every 100 ms: bytes keep flowing, but no frame ever completes in time.
            while sent < bytes.count - 1, Date().timeIntervalSince(started) < 10 {
                do { try raw.sendRaw([bytes[sent]]) } catch { break }
                sent += 1
                usleep(100_000)
            }
            #expect(Date().timeIntervalSince(started) < 5, "the trickling connection was not dropped")
            #expect(server.log.contains("closing a silent connection"), "\(server.log)")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("x".utf8), to: source + "/x")
            #expect(
                try runClient(["--source", source, "--id", "fine"] + server.connect, in: work).status == 0)
        }
    }
}
