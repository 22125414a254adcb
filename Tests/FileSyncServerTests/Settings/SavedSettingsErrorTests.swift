import FileSyncCore
import FileSyncServer
import Foundation
import Testing

@Suite("Server config file errors")
struct SavedSettingsErrorTests {
    /// A fresh empty folder for one test.
    private func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The message of the `FileSyncError` that `body` throws, or a note that it threw none.
    private func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return (error as? FileSyncError)?.message ?? "not a FileSyncError: \(error)"
        }
    }

    @Test("a config file that is not valid names the file and what is wrong, in no Foundation words")
    func invalidFile() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/server.json"
        try Data(#"{"port": "seven"}"#.utf8).write(to: URL(fileURLWithPath: path))
        let text = message { _ = try SavedSettings.load(from: path) }
        #expect(text.contains("the config file \(path) is not valid: wrong type at port"), "\(text)")
        #expect(!text.contains("could not be completed"), "\(text)")

        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(message { _ = try SavedSettings.load(from: path) }.contains("is not valid: invalid JSON"))
    }

    @Test("a config path that cannot be read says why in the system's words")
    func unreadableFile() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A folder where the file should be: open succeeds, read fails with EISDIR.
        let path = folder + "/server.json"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let text = message { _ = try SavedSettings.load(from: path) }
        #expect(text == "cannot read the config file \(path): Is a directory", "\(text)")
    }

    @Test("a storage folder below a file cannot be created, and the message says which folder and why")
    func rootBelowAFile() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/file"))
        let text = message { _ = try SettingValidation.root(folder + "/file/sub/backups") }
        #expect(text == "cannot create \(folder)/file/sub: Not a directory", "\(text)")
    }
}
