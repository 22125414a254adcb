import FileSyncCore
import Foundation
import Testing

@testable import FileSyncServer

@Suite("Server id file")
struct ServerIDFileTests {
    @Test("the id is created once, in a folder made if needed, and read back unchanged")
    func createdOnce() throws {
        let folder = NSTemporaryDirectory() + "serverid-\(UUID().uuidString)/state"
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        let first = try ServerIDFile.loadOrCreate(in: folder)
        #expect(ServerIDFile.isValid(first))
        #expect(try ServerIDFile.loadOrCreate(in: folder) == first)
        #expect(try String(contentsOfFile: folder + "/server.id", encoding: .utf8) == first + "\n")
        #expect(!FileManager.default.fileExists(atPath: folder + "/server.id.tmp"))
    }

    @Test(
        "a file that does not hold a lowercase UUID is an error, and is left as it is",
        arguments: [
            "", "not an id\n", "6C1D0B52-8F3E-4A7B-9D21-5E0F4C3A2B19\n",
        ])
    func damaged(content: String) throws {
        let folder = NSTemporaryDirectory() + "serverid-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(content.utf8).write(to: URL(fileURLWithPath: folder + "/server.id"))
        #expect(throws: FileSyncError.self) { try ServerIDFile.loadOrCreate(in: folder) }
        #expect(try String(contentsOfFile: folder + "/server.id", encoding: .utf8) == content)
    }
}
