import CFileSyncShims
import Foundation
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Unnamed file pool") struct UnnamedFilePoolTests {
    @Test("a file taken from the pool is written and linked into a subfolder; closing drops the others")
    func takeLinkAndClose() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let sub = open(folder + "/sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer {
            close(root)
            close(sub)
        }
        let probe = filesync_open_unnamed(root)
        try #require(probe >= 0 || errno == EOPNOTSUPP || errno == EISDIR, "O_TMPFILE failed: \(errno)")
        guard probe >= 0 else { return }  // no O_TMPFILE on this filesystem: the pool is never made
        close(probe)

        // Descriptors open on this test's folder or on unnamed files in it (other tests run alongside).
        func openFiles() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count {
                ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) ?? "")
                    .hasPrefix(folder)
            }
        }
        let before = try openFiles()
        let pool = try #require(UnnamedFilePool(directory: root))
        await pool.settle()
        #expect(try openFiles() == before + 1 + UnnamedFilePool.depth, "its folder and a full pool of files")
        var folderInfo = stat()
        try #require(fstat(sub, &folderInfo) == 0)
        let device = UInt64(folderInfo.st_dev)
        #expect(pool.take(forFolderOn: device &+ 1) == nil, "a folder on another filesystem gets none")
        let (fd, mode) = try #require(pool.take(forFolderOn: device), "files are ready once the first refill is done")
        var info = stat()
        #expect(fstat(fd, &info) == 0 && UInt32(info.st_mode) & 0o777 == mode, "the mode it reports is the file's")
        let content = Array("pooled".utf8)
        #expect(write(fd, content, content.count) == content.count)
        #expect(filesync_link_unnamed(fd, sub, "file") == 0)
        close(fd)
        await pool.settle()
        pool.close()
        #expect(try openFiles() == before + 1, "closing drops every file never taken: they vanish")
        #expect(try String(contentsOfFile: folder + "/sub/file", encoding: .utf8) == "pooled")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["sub"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/sub") == ["file"])
        #expect(pool.take(forFolderOn: device) == nil, "a closed pool hands out nothing")
    }
}
