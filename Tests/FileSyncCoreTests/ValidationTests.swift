import FileSyncCore
import Testing

@Suite("Path and client id validation")
struct ValidationTests {
    @Test(
        "ordinary relative paths are accepted",
        arguments: [
            "a", "a/b/c.txt", "ünï cödé/spaced name.txt", ".hidden", "a/..b", "...", "x\\y", "a/.b/c.", "..a/b..",
            "a/" + String(repeating: "x", count: 255) + "/b",
        ])
    func validPaths(path: String) throws {
        #expect(try RelativePath(validating: path).string == path)
    }

    @Test(
        "traversal, absolute, empty, NUL and overlong paths are refused",
        arguments: [
            "", "/etc/passwd", "..", "../x", "a/../../etc", "a/./b", ".", "a//b", "a/", "a\u{0}b", "a/.", "a/..",
            "a/" + String(repeating: "x", count: 256) + "/b",
            String(repeating: "x", count: 256), String(repeating: "a/", count: 2100) + "z",
        ])
    func invalidPaths(path: String) {
        let error = #expect(throws: FileSyncError.self) { try RelativePath(validating: path) }
        #expect(error?.code == .invalidPath)
    }

    @Test(
        "ids of letters, digits, dot, underscore and dash are accepted",
        arguments: ["laptop", "a", "web-01.example_com", String(repeating: "x", count: 64), "..."])
    func validIDs(id: String) throws {
        #expect(try ClientID(validating: id).string == id)
    }

    @Test(
        "ids with separators, traversal, reserved names or bad length are refused",
        arguments: [
            "x/../../etc", "", ".", "..", ".filesync", "a b", "a/b", "ü", String(repeating: "x", count: 65), "a\u{0}",
        ])
    func invalidIDs(id: String) {
        let error = #expect(throws: FileSyncError.self) { try ClientID(validating: id) }
        #expect(error?.code == .invalidClientID)
    }

    @Test("manifest entries with impossible sizes or modes are refused")
    func manifestEntryValidation() {
        #expect(throws: FileSyncError.self) {
            try ManifestEntry(path: "a", type: .file, size: -1, mtimeNs: 0, mode: 0o644).validated()
        }
        #expect(throws: FileSyncError.self) {
            try ManifestEntry(path: "a", type: .file, size: 1, mtimeNs: 0, mode: 0o17777).validated()
        }
        #expect(throws: FileSyncError.self) {
            try ManifestEntry(path: "d", type: .dir, size: 10, mtimeNs: 0, mode: 0o755).validated()
        }
    }

    @Test(
        "a path splits into its parent's components and its last component",
        arguments: [("a", [String](), "a"), ("a/b", ["a"], "b"), ("x/y/z.txt", ["x", "y"], "z.txt")])
    func lastComponent(path: String, parent: [String], last: String) throws {
        let relative = try RelativePath(validating: path)
        #expect(relative.parentComponents.map(String.init) == parent)
        #expect(String(relative.lastComponent) == last)
        #expect(relative.parentComponents + [relative.lastComponent] == relative.components)
    }
}
