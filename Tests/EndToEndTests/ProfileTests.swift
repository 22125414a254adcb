import Foundation
import Testing

extension EndToEnd {
    @Suite("Client profiles") struct ProfileTests {
        /// Writes `client.json` where the client run by the tests looks for it.
        static func writeConfig(_ json: String, in work: TemporaryDirectory) throws {
            try FileManager.default.createDirectory(
                atPath: work.path + "/config/filesync", withIntermediateDirectories: true)
            try SampleTree.write(Array(json.utf8), to: work.path + "/config/filesync/client.json")
        }

        @Test("a named profile supplies source, id, server and excludes; flags win over it")
        func profileAndFlags() throws {
            let work = try TemporaryDirectory("profile")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("a".utf8), to: source + "/a.txt")
            try SampleTree.write(Array("b".utf8), to: source + "/b.log")
            let server = try ServerProcess(root: root, in: work)
            try Self.writeConfig(
                """
                {"profiles": {"nas": {"source": "\(source)", "id": "from-profile", "server": "\(server.endpoint)",
                 "exclude": ["*.log"]}}}
                """, in: work)
            let result = try runClient(["--profile", "nas"], in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/from-profile/a.txt"))
            #expect(!FileManager.default.fileExists(atPath: root + "/from-profile/b.log"))

            let flagged = try runClient(["--profile", "nas", "--id", "from-flag"], in: work)
            #expect(flagged.status == 0, "\(flagged.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/from-flag/a.txt"))
        }

        @Test("a bad configuration file is an error naming the file, the key and the reason (exit 64)")
        func badFile() throws {
            let work = try TemporaryDirectory("profile-bad")
            try Self.writeConfig(#"{"profiles": {"default": {"exclude": "*.log"}}}"#, in: work)
            let path = work.path + "/config/filesync/client.json"
            let wrongType = try runClient([], in: work, timeout: 30)
            #expect(wrongType.status == 64, "\(wrongType.stderr)")
            #expect(
                wrongType.stderr.contains("\(path): key \"profiles.default.exclude\": must be a list of strings"),
                "\(wrongType.stderr)")

            let missing = try runClient(["--profile", "nope"], in: work, timeout: 30)
            #expect(missing.status == 64, "\(missing.stderr)")
            #expect(missing.stderr.contains("no profile \"nope\""), "\(missing.stderr)")

            try Self.writeConfig(#"{"profiles": {"default": {"sauce": "/x"}}}"#, in: work)
            let unknown = try runClient([], in: work, timeout: 30)
            #expect(unknown.status == 64, "\(unknown.stderr)")
            #expect(unknown.stderr.contains("profiles.default.sauce\": unknown key"), "\(unknown.stderr)")
        }
    }
}
