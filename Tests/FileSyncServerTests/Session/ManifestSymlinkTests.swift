import FileSyncCore
import NIOCore
import Testing

@testable import FileSyncServer

/// Symlink entries on the server's side of the manifest (Protocol.md §4, §6.6).
@Suite("Manifest symlinks") struct ManifestSymlinkTests {
    static let link = ManifestEntry(
        path: "evil", type: .symlink, size: 12, mtimeNs: 1, mode: 0o777, target: "/etc/cron.d/", uid: 0, gid: 0)
    static let below = ManifestEntry(path: "evil/job", type: .file, size: 4, mtimeNs: 1, mode: 0o644)

    @Test("without metadata a symlink entry is refused in either form; with it, it is read")
    func negotiated() throws {
        let binary = Frame(kind: .manifest, payload: BinaryManifest.encode([Self.link], final: true, metadata: true))
        let json = try Message.filesInfo(FilesInfo(entries: [Self.link], final: true)).frame()
        #expect(throws: FileSyncError.self) { try ManifestPart(binary, binary: true) }
        #expect(throws: FileSyncError.self) { try ManifestPart(json, binary: false) }
        do {
            _ = try ManifestPart(json, binary: false)
        } catch let error as FileSyncError {
            #expect(error.code == .malformedMessage)
        }
        do {
            _ = try ManifestPart(binary, binary: true)
        } catch let error as FileSyncError {
            #expect(error.code == .malformedFrame)
        }
        #expect(try ManifestPart(binary, binary: true, symlinks: true).entries == [Self.link])
        #expect(try ManifestPart(json, binary: false, symlinks: true).entries == [Self.link])
    }

    @Test("an entry below a symlink of the manifest is rejected, in the same part or a later one")
    func nothingBelowASymlink() throws {
        var manifest = BackupSession.Manifest()
        let first = try manifest.add([Self.link, Self.below])
        #expect(first.collisions.map(\.position) == [1])
        #expect(first.collisions.first?.reason.contains("symlink") == true)
        let deeper = ManifestEntry(path: "evil/a/b", type: .file, size: 1, mtimeNs: 1, mode: 0o644)
        let beside = ManifestEntry(path: "evilness", type: .file, size: 1, mtimeNs: 1, mode: 0o644)
        let second = try manifest.add([deeper, beside])
        #expect(second.collisions.map(\.position) == [0])
        #expect(manifest.paths.count == 4)
    }
}
