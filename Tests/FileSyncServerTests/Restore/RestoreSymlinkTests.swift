import FileSyncClient
import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Foundation
import TestSupport
import Testing

/// Symlinks in a restore (Protocol.md §11.3, §11.4), client and server joined in memory.
@Suite("Restore symlinks")
struct RestoreSymlinkTests {
    static func link(_ path: String, to target: String, mtimeNs: Int64 = 1_650_000_000_000_000_007) -> SnapshotEntry {
        SnapshotEntry(
            path: path, kind: .symlink, size: Int64(target.utf8.count), mtimeNs: mtimeNs, mode: 0o777, target: target)
    }

    @Test("symlinks are made with their target and own mtime; a client without metadata gets none")
    func made() async throws {
        var source = MemorySnapshotSource()
        source.addFolder("docs")
        source.addFile("docs/a.txt", TestData.text(100))
        source.tree.append(Self.link("docs/up", to: "../nowhere"))
        let folder = RestoreLoopbackTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let summary = try await RestoreLoopbackTests.restore(source, into: folder, symlinks: true).0.get()
        #expect(summary.symlinks == 1 && summary.failed.isEmpty)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/docs/up") == "../nowhere")
        #expect(FileStatus.of(path: folder + "/docs/up")?.mtimeNs == 1_650_000_000_000_000_007)

        let old = RestoreLoopbackTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: old) }
        let without = try await RestoreLoopbackTests.restore(source, into: old).0.get()
        #expect(without.symlinks == 0 && without.listed == 2)
        #expect(FileStatus.of(path: old + "/docs/up") == nil)
    }

    @Test("a hostile list: a symlink to a folder outside, then a file below it; nothing is written outside")
    func fileBelowALink() async throws {
        let outside = RestoreLoopbackTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        var source = MemorySnapshotSource()
        source.tree.append(Self.link("door", to: outside))
        source.addFile("door/planted.txt", TestData.text(10))
        let folder = RestoreLoopbackTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let summary = try await RestoreLoopbackTests.restore(source, into: folder, symlinks: true).0.get()
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // The file went into a real folder; the link could not replace that folder.
        #expect(summary.failed.map(\.path) == ["door"])
        #expect(FileStatus.of(path: folder + "/door")?.kind == .directory)
    }
}
