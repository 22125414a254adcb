import FileSyncCore
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import FileSyncClient

#if canImport(Glibc)
    import Glibc
#endif

/// The client's manifest with and without `metadata` in force (Protocol.md §4, §6.6): a server
/// that predates symlinks gets files and folders only, and each symlink is reported as skipped.
@Suite("Symlinks and the metadata capability")
struct SymlinkNegotiationTests {
    let logger = Logger(label: "test")

    final class Received: Sendable {
        let entries = Mutex<[ManifestEntry]>([])
    }

    /// One backup against a scripted server that answers READY with or without `metadata`, asks for
    /// nothing, and records the manifest it got.
    func backup(metadata: Bool) async throws -> (summary: BackupSummary, manifest: [ManifestEntry], hello: Hello) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("links-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = folder + "/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: source + "/a.txt", contents: Data("a".utf8)))
        try FileManager.default.createSymbolicLink(atPath: source + "/link", withDestinationPath: "a.txt")
        #expect(mkfifo(source + "/pipe", 0o600) == 0)
        let server = try await ScriptedServer.start()
        var options = server.options(in: folder)
        options.source = source
        let received = Received()
        async let hellos = server.serve([
            { frames, outbound, hello in
                // A server of the metadata capability's time: without xattrs (its frames' form) and
                // without specials.
                let without = [Capability.xattrs, Capability.specials] + (metadata ? [] : [Capability.metadata])
                try await ScriptedServer.write(ScriptedServer.ready(hello, without: without), to: outbound)
                while let frame = try await frames.next(), frame.kind == .manifest {
                    let part = try BinaryManifest.decode(frame.payload, metadata: metadata)
                    received.entries.withLock { $0 += part.entries }
                    if part.final { break }
                }
                let tasks = BinaryTasks.encode(BinaryTasks.Part(runs: [], final: true))
                try await outbound.write(Frame(kind: .tasks, payload: tasks))
                while let message = try await ScriptedServer.read(&frames) {
                    if case .done = message { break }
                }
                try await ScriptedServer.write(
                    .nextSync(NextSync(afterSeconds: 60, stored: 0, failed: 0, deleted: 0)), to: outbound)
            }
        ])
        let summary = try await BackupClient(options: options, logger: logger).run()
        let hello = try #require(try await hellos.first)
        return (summary, received.entries.withLock { $0 }, hello)
    }

    @Test("with metadata in force the symlink is in the manifest, with its target")
    func withMetadata() async throws {
        let (summary, manifest, hello) = try await backup(metadata: true)
        #expect(hello.capabilities.contains(Capability.metadata))
        #expect(manifest.map(\.path) == ["a.txt", "link"])
        #expect(manifest.last?.type == .symlink && manifest.last?.target == "a.txt")
        // The FIFO is left out for a server without specials, and reported.
        #expect(summary.warnings.map(\.path) == ["pipe"])
        #expect(summary.warnings.first?.error?.message.contains("specials") == true)
    }

    @Test("a server without metadata gets no symlink entry; the symlink is listed in warnings as skipped")
    func oldServer() async throws {
        let (summary, manifest, _) = try await backup(metadata: false)
        #expect(manifest.map(\.path) == ["a.txt"])
        #expect(summary.warnings.map(\.path) == ["link", "pipe"])
        #expect(summary.warnings.first?.error?.code == "skipped")
    }
}
