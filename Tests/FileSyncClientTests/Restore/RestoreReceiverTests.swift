import Crypto
import FileSyncClient
import FileSyncCore
import Foundation
import NIOCore
import Testing

@Suite("Restore receiver against a hostile or broken server")
struct RestoreReceiverTests {
    static func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("receiver-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func file(_ path: String, _ content: [UInt8]) -> RestoreEntry {
        RestoreEntry(
            path: path, type: "file", size: Int64(content.count), mtimeNs: 1_000_000_000, mode: 0o644,
            sha256: SHA256.hash(data: content).hexString)
    }

    /// The frames a server sends for `entry` carrying `content`, and `RESTORE_END`.
    static func frames(_ entry: RestoreEntry, _ content: [UInt8]) throws -> [Frame] {
        [
            try Message.fileHeader(
                FileHeader(path: entry.path, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode)
            )
            .frame(),
            Frame(kind: .data, payload: ByteBuffer(bytes: content)),
            try Message.fileEnd(FileEnd(sha256: entry.sha256!)).frame(),
            try Message.restoreEnd(RestoreEnd(files: 1, bytes: entry.size, failed: 0)).frame(),
        ]
    }

    static func receive(_ entry: RestoreEntry, content: [UInt8], in folder: String) throws -> RestoreSummary {
        let target = try RestoreFolder(path: folder)
        let path = try RelativePath(validating: entry.path)
        var plan = RestorePlan()
        plan.wants = [RestoreWant.File(entry: 0)]
        let receiver = RestoreReceiver(folder: target, entries: [entry], paths: [path], plan: plan, codecs: [])
        var done = false
        for frame in try frames(entry, content) { done = try receiver.receive(frame) }
        #expect(done)
        return receiver.summary
    }

    @Test(
        "paths out of the folder, into the state folder, or with bad fields are refused",
        arguments: [
            RestoreEntry(
                path: "../x", type: "file", size: 1, mtimeNs: 0, mode: 0o644, sha256: String(repeating: "a", count: 64)),
            RestoreEntry(
                path: "/etc/x", type: "file", size: 1, mtimeNs: 0, mode: 0o644,
                sha256: String(repeating: "a", count: 64)),
            RestoreEntry(
                path: ".filesync-restore/journal", type: "file", size: 1, mtimeNs: 0, mode: 0o644,
                sha256: String(repeating: "a", count: 64)),
            RestoreEntry(
                path: "x", type: "file", size: 1, mtimeNs: 0, mode: 0o644, sha256: String(repeating: "A", count: 64)),
            RestoreEntry(path: "x", type: "file", size: 1, mtimeNs: 0, mode: 0o644),
            RestoreEntry(
                path: "x", type: "file", size: -1, mtimeNs: 0, mode: 0o644, sha256: String(repeating: "a", count: 64)),
            RestoreEntry(
                path: "x", type: "file", size: 1, mtimeNs: 0, mode: 0o10000, sha256: String(repeating: "a", count: 64)),
            RestoreEntry(
                path: "x", type: "file", size: 3, mtimeNs: 0, mode: 0o644, sha256: String(repeating: "a", count: 64),
                chunks: [RestoreChunk(length: 2, sha256: String(repeating: "b", count: 64))]),
        ])
    func invalidEntries(_ entry: RestoreEntry) {
        #expect(throws: FileSyncError.self) { try RestoreClient.validate([entry]) }
    }

    @Test("a path named twice is refused")
    func duplicate() {
        let entry = Self.file("x", [1])
        #expect(throws: FileSyncError.self) { try RestoreClient.validate([entry, entry]) }
    }

    @Test("a file is restored with its mode, its mtime and its journal line")
    func restored() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let content = Array("hello\n".utf8)
        let summary = try Self.receive(Self.file("sub/dir/a.txt", content), content: content, in: folder)
        #expect(summary.restored == 1 && summary.failed.isEmpty && summary.bytesReceived == 6)
        #expect(FileManager.default.contents(atPath: folder + "/sub/dir/a.txt") == Data(content))
        let journal = try String(contentsOfFile: folder + "/.filesync-restore/journal", encoding: .utf8)
        #expect(journal == SHA256.hash(data: content).hexString + " sub/dir/a.txt\n")
    }

    @Test("content that does not match its SHA-256 fails the file and leaves neither it nor its partial")
    func checksum() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let entry = Self.file("a.txt", Array("hello\n".utf8))
        let summary = try Self.receive(entry, content: Array("HELLO\n".utf8), in: folder)
        #expect(summary.failed.map(\.error?.code) == ["checksumMismatch"] && summary.restored == 0)
        #expect(!FileManager.default.fileExists(atPath: folder + "/a.txt"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/.filesync-restore/partial/" + entry.sha256!))
    }

    @Test("a symlink inside the folder is never followed: the file fails and nothing lands outside")
    func symlink() throws {
        let folder = Self.temporaryFolder()
        let outside = Self.temporaryFolder()
        defer {
            try? FileManager.default.removeItem(atPath: folder)
            try? FileManager.default.removeItem(atPath: outside)
        }
        try FileManager.default.createSymbolicLink(atPath: folder + "/docs", withDestinationPath: outside)
        let content = Array("evil".utf8)
        let target = try RestoreFolder(path: folder)
        #expect(target.state(of: try RelativePath(validating: "docs/x")) == .other)
        let summary = try Self.receive(Self.file("docs/x", content), content: content, in: folder)
        #expect(summary.failed.map(\.path) == ["docs/x"] && summary.restored == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }
}
