import Foundation
import Testing

extension EndToEnd {
    /// A folder the scan cannot open leaves its contents out of the manifest; a run must neither
    /// lose them by running out of descriptors nor let `--delete` remove them on the server.
    @Suite("Unreadable folders") struct UnreadableFolderTests {
        /// Runs the client with its open-file limit (soft and hard) lowered to `limit`.
        static func runLimitedClient(
            limitedTo limit: Int, _ arguments: [String], in work: TemporaryDirectory
        ) throws -> CommandResult {
            try Command.run(
                "/bin/sh", ["-c", "ulimit -n \(limit) && exec \"$0\" \"$@\"", Harness.client] + arguments, in: work)
        }

        @Test("a source with far more top-level folders than open files allowed is scanned and stored whole")
        func manyTopLevelFolders() throws {
            let work = try TemporaryDirectory("many-top")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            for index in 0..<300 {
                try FileManager.default.createDirectory(
                    atPath: source + "/folder \(index)", withIntermediateDirectories: true)
                try SampleTree.write(Array("file \(index)\n".utf8), to: source + "/folder \(index)/file.txt")
            }
            let server = try ServerProcess(root: root, in: work)
            let result = try Self.runLimitedClient(
                limitedTo: 64, ["--source", source, "--id", "many"] + server.connect + ["--json"], in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try result.json()["scanned"] as? Int == 300)
            #expect(try TreeSnapshot(of: root + "/many") == TreeSnapshot(of: source))
        }

        @Test("--delete deletes nothing when a folder cannot be read, and the run exits 23")
        func unreadableFolderKeepsDeletions() throws {
            let work = try TemporaryDirectory("unreadable")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            // A chain of 200 nested folders: a walk holds a descriptor per level, so under a low
            // open-file limit the deepest ones cannot be opened.
            let deep = source + "/deep" + String(repeating: "/d", count: 200)
            try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
            try SampleTree.write(Array("bottom\n".utf8), to: deep + "/bottom.txt")
            try SampleTree.write(Array("gone soon\n".utf8), to: source + "/old.txt")
            let server = try ServerProcess(root: root, in: work)
            let arguments = ["--source", source, "--id", "u"] + server.connect + ["--json", "--delete"]
            #expect(try runClient(arguments, in: work).status == 0)
            try FileManager.default.removeItem(atPath: source + "/old.txt")

            let limited = try Self.runLimitedClient(limitedTo: 48, arguments, in: work)
            #expect(limited.status == 23, "\(limited.stderr)")
            #expect(try limited.json()["deleted"] as? Int == 0)
            #expect(limited.stderr.contains("could not be read"), "\(limited.stderr)")
            let storedDeep = root + "/u" + String(deep.dropFirst(source.count))
            #expect(FileManager.default.fileExists(atPath: storedDeep + "/bottom.txt"))
            #expect(FileManager.default.fileExists(atPath: root + "/u/old.txt"))

            let whole = try runClient(arguments, in: work)
            #expect(whole.status == 0, "\(whole.stderr)")
            #expect(try whole.json()["deleted"] as? Int == 1)
            #expect(try TreeSnapshot(of: root + "/u") == TreeSnapshot(of: source))
        }
    }
}
