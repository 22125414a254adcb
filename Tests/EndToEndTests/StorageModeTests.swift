import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Storage folder modes") struct StorageModeTests {
        /// The permission bits of `path` (not following a symlink).
        static func mode(_ path: String) throws -> mode_t {
            var info = stat()
            guard lstat(path, &info) == 0 else { throw TestFailure("cannot stat \(path)") }
            return info.st_mode & 0o7777
        }

        @Test("the storage root and each client's folder are created 0700; what is inside keeps its own modes")
        func privateFolders() throws {
            let work = try TemporaryDirectory("modes")
            let source = try work.subfolder("source")
            // Neither exists yet: the server creates them.
            let root = work.path + "/store/backups"
            try FileManager.default.createDirectory(atPath: source + "/docs", withIntermediateDirectories: true)
            try SampleTree.write(Array("for everyone".utf8), to: source + "/public.txt")
            try SampleTree.write(Array("for me".utf8), to: source + "/private.txt")
            try SampleTree.write(Array("inside".utf8), to: source + "/docs/a.txt")
            #expect(chmod(source + "/public.txt", 0o644) == 0)
            #expect(chmod(source + "/private.txt", 0o600) == 0)
            #expect(chmod(source + "/docs/a.txt", 0o640) == 0)
            #expect(chmod(source + "/docs", 0o755) == 0)
            let server = try ServerProcess(root: root, in: work)
            for id in ["first", "second"] {
                let result = try runClient(["--source", source, "--id", id] + server.connect, in: work)
                #expect(result.status == 0, "\(result.stderr)")
            }

            #expect(try Self.mode(root) == 0o700)
            for id in ["first", "second"] {
                let folder = root + "/" + id
                #expect(try Self.mode(folder) == 0o700, "\(folder)")
                #expect(try Self.mode(folder + "/public.txt") == 0o644)
                #expect(try Self.mode(folder + "/private.txt") == 0o600)
                #expect(try Self.mode(folder + "/docs") == 0o755)
                #expect(try Self.mode(folder + "/docs/a.txt") == 0o640)
            }
        }
    }
}
