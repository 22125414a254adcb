import FileSyncCore
import Foundation
import NIOCore
import Testing

/// Symlink entries of the manifest (`metadata`, Protocol.md §4 and §6.6).
@Suite("Symlink entries") struct SymlinkEntryTests {
    static let link = ManifestEntry(
        path: "docs/up", type: .symlink, size: 5, mtimeNs: 1_700_000_000_000_000_001, mode: 0o777, target: "../é",
        uid: 1000, gid: 100)

    @Test("a symlink entry round-trips in a manifest frame when symlinks are allowed, with its exact layout")
    func binaryRoundTrip() throws {
        let entries = [
            ManifestEntry(path: "docs", type: .dir, size: 0, mtimeNs: 1, mode: 0o755, uid: 0, gid: 0), Self.link,
            ManifestEntry(path: "docs/z", type: .file, size: 3, mtimeNs: 2, mode: 0o644, uid: 4_000_000_000, gid: 7),
        ]
        let payload = BinaryManifest.encode(entries, final: true, metadata: true)
        #expect(try BinaryManifest.decode(payload, metadata: true).entries == entries)
        var bytes = payload
        bytes.moveReaderIndex(forwardBy: 5 + 23 + 4 + 8)  // header, "docs" and its owner
        #expect(bytes.readInteger(as: UInt8.self) == 2)  // symlink
        #expect(bytes.readInteger(as: UInt16.self) == 4)  // shares "docs"
        #expect(bytes.readInteger(as: UInt16.self) == 3)  // "/up"
        bytes.moveReaderIndex(forwardBy: 3 + 8 + 8 + 2)
        #expect(bytes.readInteger(as: UInt32.self) == 1000)  // uid
        #expect(bytes.readInteger(as: UInt32.self) == 100)  // gid
        #expect(bytes.readInteger(as: UInt16.self) == 5)  // target length, then "../é"
        #expect(bytes.readBytes(length: 5) == Array("../é".utf8))
    }

    @Test("type 2 is malformedFrame without metadata, as is a truncated or non-UTF-8 target")
    func binaryRefusals() throws {
        let payload = BinaryManifest.encode([Self.link], final: true, metadata: true)
        #expect(throws: FileSyncError.self) { try BinaryManifest.decode(payload) }
        var truncated = payload
        truncated.moveWriterIndex(to: payload.writerIndex - 1)
        #expect(throws: FileSyncError.self) { try BinaryManifest.decode(truncated, metadata: true) }
        var bad = payload
        bad.setInteger(UInt8(0xFF), at: payload.writerIndex - 1)
        #expect(throws: FileSyncError.self) { try BinaryManifest.decode(bad, metadata: true) }
    }

    @Test("validation: a target of 1 … 4,095 bytes without NUL whose length is the size, on symlinks only")
    func validation() throws {
        _ = try Self.link.validated()
        var wrongSize = Self.link
        wrongSize.size = 4
        var empty = Self.link
        (empty.target, empty.size) = ("", 0)
        var nul = Self.link
        nul.target = "a\0b"
        nul.size = 3
        var long = Self.link
        long.target = String(repeating: "x", count: 4096)
        long.size = 4096
        var missing = Self.link
        missing.target = nil
        var fileWithTarget = ManifestEntry(path: "f", type: .file, size: 1, mtimeNs: 0, mode: 0o644)
        fileWithTarget.target = "x"
        for entry in [wrongSize, empty, nul, long, missing, fileWithTarget] {
            #expect(throws: FileSyncError.self, "\(entry)") { try entry.validated() }
        }
        var longest = Self.link
        longest.target = String(repeating: "x", count: 4095)
        longest.size = 4095
        _ = try longest.validated()
    }

    @Test("JSON: a symlink entry carries its target; files and folders carry none")
    func json() throws {
        let encoded = try JSONEncoder().encode(Self.link)
        let text = String(decoding: encoded, as: UTF8.self)
        #expect(text.contains("\"type\":\"symlink\"") && text.contains("\"target\""))
        #expect(try JSONDecoder().decode(ManifestEntry.self, from: encoded) == Self.link)
        let file = ManifestEntry(path: "f", type: .file, size: 1, mtimeNs: 0, mode: 0o644)
        #expect(!String(decoding: try JSONEncoder().encode(file), as: UTF8.self).contains("target"))
    }
}
