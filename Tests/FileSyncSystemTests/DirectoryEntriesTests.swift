import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Directory entries and file status") struct DirectoryEntriesTests {
    private func makeFolder() throws -> String {
        let path = NSTemporaryDirectory() + "filesync-dirents-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("names come back without . and .., raw bytes kept for names that are not UTF-8")
    func namesAndRawBytes() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(FileManager.default.createFile(atPath: folder + "/a.txt", contents: Data("x".utf8)))
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: false)
        let invalid: [UInt8] = [0x62, 0xFF, 0x63]
        let path = Array((folder + "/").utf8) + invalid
        let fd = open(path.map { CChar(bitPattern: $0) } + [0], O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0)
        close(fd)
        #expect(DirectoryEntries.names(atPath: folder)?.sorted() == ["a.txt", "sub"])
        let stream = try #require(opendir(folder))
        defer { closedir(stream) }
        let raw = DirectoryEntries(stream).map(\.nameBytes)
        #expect(raw.count == 3)
        #expect(raw.contains(invalid))
    }

    @Test("file status tells kinds apart without following a symlink")
    func status() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(FileManager.default.createFile(atPath: folder + "/f", contents: Data(count: 10)))
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: "f")
        let file = try #require(FileStatus.of(path: folder + "/f"))
        #expect(file.kind == .file)
        #expect(file.size == 10)
        #expect(try #require(FileStatus.of(path: folder + "/link")).kind == .symbolicLink)
        #expect(try #require(FileStatus.of(path: folder)).kind == .directory)
        #expect(FileStatus.of(path: folder + "/missing") == nil)
    }
}
