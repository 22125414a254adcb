import CFileSyncShims
import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Serialized: one case switches the process-wide choice between the *xattrat calls and the
/// /proc/self/fd paths.
@Suite("Extended attributes by folder descriptor and name", .serialized) struct ExtendedAttributesTests {
    /// A folder with a file `f` and a symlink `l` to it, open as a descriptor.
    struct Folder {
        let path: String
        let fd: Int32

        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("xattr-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try Data("content".utf8).write(to: URL(fileURLWithPath: path + "/f"))
            try FileManager.default.createSymbolicLink(atPath: path + "/l", withDestinationPath: "f")
            fd = open(path, O_RDONLY | O_DIRECTORY)
            guard fd >= 0 else { throw FileSyncError(.storageFailed, "cannot open \(path)") }
        }

        func remove() {
            close(fd)
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Sets, reads, replaces and removes attributes of `f` by name, and checks that its symlink is
    /// never followed.
    static func roundTrip() throws {
        let folder = try Folder()
        defer { folder.remove() }
        let first = [
            ExtendedAttribute(name: "user.a", value: Array("one".utf8)), ExtendedAttribute(name: "user.b", value: []),
        ]
        let failed = ExtendedAttributes.apply(first, in: folder.fd, name: "f")
        // A filesystem without user attributes: nothing to check here.
        guard failed.isEmpty else { return }
        #expect(ExtendedAttributes.read(in: folder.fd, name: "f") == first)
        let second = [ExtendedAttribute(name: "user.b", value: Array("two".utf8))]
        #expect(ExtendedAttributes.apply(second, in: folder.fd, name: "f").isEmpty)
        #expect(ExtendedAttributes.read(in: folder.fd, name: "f") == second)

        // The symlink's own attributes: none, and none can be given it (Linux keeps user attributes
        // off symlinks); its target is left as it was.
        #expect(ExtendedAttributes.read(in: folder.fd, name: "l").isEmpty)
        #expect(!ExtendedAttributes.apply(first, in: folder.fd, name: "l").isEmpty)
        #expect(ExtendedAttributes.read(in: folder.fd, name: "f") == second)
        #expect(ExtendedAttributes.read(in: folder.fd, name: "missing").isEmpty)
    }

    /// Whether the running kernel is Linux 6.13 or later, which has the *xattrat calls.
    static var kernelHasAtCalls: Bool {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return numbers.count == 2 && (numbers[0], numbers[1]) >= (6, 13)
    }

    @Test("attributes round-trip through the *xattrat calls, never following a symlink")
    func atCalls() throws {
        try Self.roundTrip()
        // On a kernel that has them, the calls were made (a sandbox that refuses them turns them off).
        if Self.kernelHasAtCalls { #expect(filesync_xattr_at_calls_in_use() == 1) }
    }

    @Test("the same through /proc/self/fd, as on kernels before 6.13")
    func procPaths() throws {
        filesync_xattr_use_proc_paths(1)
        defer { filesync_xattr_use_proc_paths(0) }
        #expect(filesync_xattr_at_calls_in_use() == 0)
        try Self.roundTrip()
    }
}
