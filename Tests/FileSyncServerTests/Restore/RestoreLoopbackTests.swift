import Crypto
import FileSyncClient
import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Foundation
import TestSupport
import Testing

/// The server's RestoreSender and the client's RestoreClient joined by an in-memory frame pipe.
@Suite("Restore loopback")
struct RestoreLoopbackTests {
    /// The client's end: frames to the server go into a stream the server task reads; frames from
    /// the server come from another. `cutAfter` closes the connection after that many data frames.
    final class Pipe: RestoreChannel {
        let toServer: AsyncStream<Frame>.Continuation
        var fromServer: AsyncStream<Frame>.Iterator
        var sentWants: [RestoreWant.File] = []
        var cutAfter: Int?
        /// The names of the threads the client read its frames on.
        var receivingThreads: Set<String> = []
        private var dataFrames = 0

        init(toServer: AsyncStream<Frame>.Continuation, fromServer: AsyncStream<Frame>, cutAfter: Int?) {
            self.toServer = toServer
            self.fromServer = fromServer.makeAsyncIterator()
            self.cutAfter = cutAfter
        }

        /// The calling thread's name, as Linux shows it.
        static func currentThreadName() -> String {
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            return name.trimmingCharacters(in: .newlines)
        }

        func send(_ frames: [Frame]) async throws {
            for frame in frames {
                if case .restoreWant(let want) = try Message(frame: frame) { sentWants += want.files }
                toServer.yield(frame)
            }
        }

        func receive() async throws -> Frame? {
            receivingThreads.insert(Self.currentThreadName())
            guard let frame = await fromServer.next() else { return nil }
            if frame.kind == .data { dataFrames += 1 }
            if let cutAfter, dataFrames > cutAfter { return nil }
            return frame
        }
    }

    struct StreamSink: FrameSink {
        let continuation: AsyncStream<Frame>.Continuation
        func write(_ frames: [Frame]) async throws { for frame in frames { continuation.yield(frame) } }
    }

    /// Restores `request` from `source` into `folder`; returns the summary (or the error) and the wants sent.
    static func restore(
        _ source: MemorySnapshotSource, into folder: String, request: Restore = Restore(), overwrite: Bool = false,
        cutAfter: Int? = nil, threads: ((Set<String>) -> Void)? = nil, symlinks: Bool = false, chunkDigest: Bool = false
    ) async throws -> (Result<RestoreSummary, any Error>, [RestoreWant.File]) {
        let (toServer, toServerContinuation) = AsyncStream<Frame>.makeStream()
        let (fromServer, fromServerContinuation) = AsyncStream<Frame>.makeStream()
        let server = Task {
            defer { fromServerContinuation.finish() }
            var sender = try RestoreSender(
                source: source, sink: StreamSink(continuation: fromServerContinuation), symlinks: symlinks,
                chunkDigest: chunkDigest)
            for await frame in toServer {
                if try await sender.receive(try Message(frame: frame)) { return }
            }
        }
        let pipe = Pipe(toServer: toServerContinuation, fromServer: fromServer, cutAfter: cutAfter)
        let client = RestoreClient(folder: try RestoreFolder(path: folder), overwrite: overwrite)
        let result: Result<RestoreSummary, any Error>
        do {
            result = .success(try await client.run(request, over: pipe))
        } catch {
            result = .failure(error)
        }
        toServerContinuation.finish()
        server.cancel()
        _ = await server.result
        threads?(pipe.receivingThreads)
        return (result, pipe.sentWants)
    }

    static func tree() -> MemorySnapshotSource {
        var source = MemorySnapshotSource()
        source.addFolder("docs", mode: 0o750, mtimeNs: 1_600_000_000_500_000_000)
        source.addFolder("docs/empty", mode: 0o700, mtimeNs: 1_600_000_001_000_000_000)
        source.addFile("docs/a.txt", TestData.text(5000), mode: 0o640, mtimeNs: 1_650_000_000_123_456_789)
        source.addFile("docs/b.txt", [], mode: 0o600)
        source.addFile("large.bin", TestData.random(3 << 20, seed: 9), mode: 0o755, mtimeNs: 1_700_000_000_000_000_001)
        return source
    }

    static func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Checks that every entry of `source` is in `folder` with its content, mode and mtime.
    static func expectRestored(_ source: MemorySnapshotSource, in folder: String) {
        for entry in source.tree {
            guard let status = FileStatus.of(path: folder + "/" + entry.path) else {
                Issue.record("\(entry.path) is missing")
                continue
            }
            #expect(status.permissions == entry.mode, "mode of \(entry.path)")
            #expect(status.mtimeNs == entry.mtimeNs, "mtime of \(entry.path)")
            if entry.kind == .file {
                let bytes = FileManager.default.contents(atPath: folder + "/" + entry.path).map(Array.init) ?? []
                #expect(SHA256.hash(data: bytes).hexString == entry.sha256, "content of \(entry.path)")
            }
        }
    }

    @Test("a small tree (files, folders, a 3 MiB file) into an empty folder: contents, modes and mtimes")
    func emptyFolder() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (result, wants) = try await Self.restore(Self.tree(), into: folder)
        let summary = try result.get()
        #expect(summary.restored == 3 && summary.failed.isEmpty && summary.skipped == 0)
        #expect(wants.allSatisfy { $0.offset == nil && $0.chunks == nil })
        Self.expectRestored(Self.tree(), in: folder)
        #expect(!FileManager.default.fileExists(atPath: folder + "/.filesync-restore"))
    }

    @Test("the client's restore runs (and waits for frames) on the storage threads, not the cooperative pool")
    func storageThreads() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var names: Set<String> = []
        _ = try await Self.restore(Self.tree(), into: folder, threads: { names = $0 }).0.get()
        #expect(!names.isEmpty && names.allSatisfy { $0.hasPrefix("TP-#") }, "\(names)")
    }

    @Test("--overwrite with a large local file that differs in one chunk asks only that chunk")
    func overwriteOneChunk() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = Self.tree()
        _ = try await Self.restore(source, into: folder).0.get()
        var changed = source.contents["large.bin"]!
        changed[1_600_000] ^= 0xFF
        try Data(changed).write(to: URL(fileURLWithPath: folder + "/large.bin"))
        let (result, wants) = try await Self.restore(source, into: folder, overwrite: true)
        let summary = try result.get()
        #expect(wants.count == 1 && wants.first?.chunks?.count == 1)
        #expect(summary.restored == 1 && summary.skipped == 2)
        #expect(summary.bytesReused > 2 << 20 && summary.bytesReceived < 1 << 20)
        Self.expectRestored(source, in: folder)
    }

    @Test("a restore cut mid-file continues from its partial copy with an offset, skipping what it finished")
    func cutThenResumed() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = Self.tree()
        let (first, _) = try await Self.restore(source, into: folder, cutAfter: 3)
        #expect(first.failureValue as? RestoreFailure == .connectionClosed)
        #expect(FileManager.default.fileExists(atPath: folder + "/.filesync-restore/journal"))
        let (result, wants) = try await Self.restore(source, into: folder)
        let summary = try result.get()
        #expect(wants.count == 1 && wants.first?.offset != nil && (wants.first?.offset ?? 0) >= 1 << 20)
        #expect(summary.skipped == 2 && summary.restored == 1)
        Self.expectRestored(source, in: folder)
        #expect(!FileManager.default.fileExists(atPath: folder + "/.filesync-restore"))
    }

    /// ``tree()`` with `large.bin` named by its chunks, as the server records a large file it never
    /// hashed whole.
    static func treeNamedByChunks() -> MemorySnapshotSource {
        var source = tree()
        source.nameByChunks("large.bin")
        return source
    }

    /// Whether `path` in `folder` holds `source`'s content for it.
    static func holds(_ source: MemorySnapshotSource, _ path: String, in folder: String) -> Bool {
        FileManager.default.contents(atPath: folder + "/" + path).map(Array.init) == source.contents[path]
    }

    @Test(
        "a file listed by its chunk-list digest is checked by it: restored whole, resumed after a cut, equal with --overwrite"
    )
    func chunkListDigest() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = Self.treeNamedByChunks()
        let (first, _) = try await Self.restore(source, into: folder, cutAfter: 3, chunkDigest: true)
        #expect(first.failureValue as? RestoreFailure == .connectionClosed)
        let (result, wants) = try await Self.restore(source, into: folder, chunkDigest: true)
        #expect(try result.get().restored >= 1 && wants.contains { $0.offset != nil })
        #expect(Self.holds(source, "large.bin", in: folder) && Self.holds(source, "docs/a.txt", in: folder))
        let (again, asked) = try await Self.restore(source, into: folder, overwrite: true, chunkDigest: true)
        #expect(try again.get().skipped == 3 && asked.isEmpty)
        // A client without chunkDigest gets the whole SHA-256 and checks that.
        let other = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: other) }
        #expect(try await Self.restore(source, into: other).0.get().restored == 3)
        #expect(Self.holds(source, "large.bin", in: other))
    }

    @Test("content that does not match its chunk-list digest fails that file; nothing wrong appears")
    func chunkListDigestMismatch() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var source = Self.treeNamedByChunks()
        source.contents["large.bin"]![2_000_000] ^= 1
        source.trustsContent = true
        let (result, _) = try await Self.restore(source, into: folder, chunkDigest: true)
        let summary = try result.get()
        #expect(summary.failed.map(\.path) == ["large.bin"] && summary.restored == 2)
        #expect(!FileManager.default.fileExists(atPath: folder + "/large.bin"))
    }

    @Test("an existing file, without --overwrite, refuses the whole restore before anything is asked")
    func refusal() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/docs", withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: folder + "/docs/a.txt"))
        let (result, wants) = try await Self.restore(Self.tree(), into: folder)
        let summary = try result.get()
        #expect(summary.conflicts == ["docs/a.txt"] && wants.isEmpty && summary.restored == 0)
        #expect(FileManager.default.contents(atPath: folder + "/docs/a.txt") == Data("mine".utf8))
        #expect(!FileManager.default.fileExists(atPath: folder + "/large.bin"))
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
