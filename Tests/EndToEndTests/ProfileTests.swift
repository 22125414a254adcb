import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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

        @Test("watch options and xattrs come from a profile; a flag wins over the profile's value")
        func watchProfile() throws {
            let work = try TemporaryDirectory("profile-watch")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("a".utf8), to: source + "/a.txt")
            let folder = open(source, O_RDONLY | O_DIRECTORY)
            try #require(folder >= 0)
            defer { close(folder) }
            let note = ExtendedAttribute(name: "user.note", value: Array("hello".utf8))
            let failed = ExtendedAttributes.apply([note], in: folder, name: "a.txt")
            try #require(failed.isEmpty, "cannot set a user attribute here")
            let server = try ServerProcess(root: root, in: work, extra: ["--interval", "1h"])
            try Self.writeConfig(
                """
                {"profiles": {"w": {"source": "\(source)", "id": "pw", "server": "\(server.endpoint)",
                 "watch": true, "watchDelay": "1s", "watchDeleteDelay": "2s", "rescanInterval": "2h",
                 "xattrs": false, "compressLevel": 0, "retries": 1}}}
                """, in: work)
            let client = try WatchingClient(["--profile", "w", "-v"], in: work)
            try #require(WatchingClient.await(60) { client.runs.count == 1 }, "no first run: \(client.stderr)")
            #expect(client.stderr.contains("delay=1s deleteDelay=2s rescanInterval=2h watch mode"), "\(client.stderr)")
            let stored = open(root + "/pw", O_RDONLY | O_DIRECTORY)
            try #require(stored >= 0)
            defer { close(stored) }
            #expect(ExtendedAttributes.read(in: stored, name: "a.txt").isEmpty, "xattrs: false sends none")
            try SampleTree.write(Array("b".utf8), to: source + "/b.txt")
            #expect(
                WatchingClient.await(31) { FileManager.default.fileExists(atPath: root + "/pw/b.txt") },
                "the watch from the profile did not send a change: \(client.stderr)")
            #expect(client.stop() == 0, "\(client.stderr)")

            let flagged = try WatchingClient(["--profile", "w", "-v", "--watch-delay", "3s"], in: work)
            try #require(WatchingClient.await(60) { flagged.runs.count == 1 }, "no first run: \(flagged.stderr)")
            #expect(
                flagged.stderr.contains("delay=3s deleteDelay=2s rescanInterval=2h watch mode"), "\(flagged.stderr)")
            #expect(flagged.stop() == 0, "\(flagged.stderr)")
        }

        @Test(
            "a bad watch option, level, flag, id or group in a profile is an error naming the file, the key and the reason"
        )
        func badWatchValues() throws {
            let work = try TemporaryDirectory("profile-bad-watch")
            let path = work.path + "/config/filesync/client.json"
            for (entry, message) in [
                (#""watchDelay": "soon""#, #"key "profiles.default.watchDelay": "soon" is not a duration"#),
                (#""rescanInterval": 3600"#, #"key "profiles.default.rescanInterval": must be a string"#),
                (#""compressLevel": 12"#, #"key "profiles.default.compressLevel": must be a whole number from 0 to 9"#),
                (#""xattrs": "no""#, #"key "profiles.default.xattrs": must be true or false"#),
                (#""pingUrl": "ftp://x""#, #"key "profiles.default.pingUrl": "ftp://x" is not an http or https URL"#),
                (#""watch": true, "loop": true"#, #""loop" and "watch" do not go together"#),
                (#""id": "bad id!""#, #"key "profiles.default.id": "#),
                (#""group": "foo""#, #"key "profiles.default.group": "foo" is not ADDRESS:PORT"#),
            ] {
                try Self.writeConfig(#"{"profiles": {"default": {"source": "/tmp", "# + entry + "}}}", in: work)
                let result = try runClient([], in: work, timeout: 30)
                #expect(result.status == 64, "\(entry): \(result.stderr)")
                #expect(result.stderr.contains(path), "\(entry): \(result.stderr)")
                #expect(result.stderr.contains(message), "\(entry): \(result.stderr)")
            }
        }
    }
}
