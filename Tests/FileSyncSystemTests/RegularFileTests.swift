import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Opening regular files") struct RegularFileTests {
    @Test("a regular file opens; a symlink to it, a folder and a FIFO do not")
    func onlyRegularFiles() throws {
        let folder = NSTemporaryDirectory() + "filesync-regular-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(FileManager.default.createFile(atPath: folder + "/a.txt", contents: Data("x".utf8)))
        #expect(symlink("a.txt", folder + "/link") == 0)
        #expect(mkfifo(folder + "/fifo", 0o600) == 0)
        let dir = open(folder, O_RDONLY | O_DIRECTORY)
        #expect(dir >= 0)
        defer { close(dir) }
        let fd = try #require(RegularFile.openForReading("a.txt", in: dir))
        var byte: UInt8 = 0
        #expect(read(fd, &byte, 1) == 1 && byte == UInt8(ascii: "x"))
        close(fd)
        #expect(RegularFile.openForReading("link", in: dir) == nil)
        #expect(RegularFile.openForReading("sub", in: dir) == nil)
        #expect(RegularFile.openForReading("fifo", in: dir) == nil)
        #expect(RegularFile.openForReading("missing", in: dir) == nil)
    }
}
