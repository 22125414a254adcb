import Foundation
import Testing

extension EndToEnd {
    /// `snapshots` and `restore` take their server, secret and id from the profile, as a backup does
    /// (README: they work right after `filesync-client setup`).
    @Suite("Profiles for snapshots and restore") struct HistoryProfileTests {
        @Test("snapshots and restore without flags use the default profile; --profile names another; flags win")
        func profilesServeHistoryCommands() throws {
            let work = try TemporaryDirectory("history-profile")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("kept".utf8), to: source + "/a.txt")
            let server = try ServerProcess(root: root, in: work)
            _ = try HistoryClient(server: server, work: work).backup(source, id: "laptop")
            try ProfileTests.writeConfig(
                """
                {"profiles": {"default": {"source": "\(source)", "id": "laptop", "server": "\(server.endpoint)"},
                 "nas": {"server": "\(server.endpoint)", "id": "laptop"},
                 "noid": {"server": "\(server.endpoint)"}}}
                """, in: work)

            let listed = try runClient(["snapshots", "--json"], in: work)
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect((try listed.json()["snapshots"] as? [Any])?.count == 1, "\(listed.stdout)")
            let named = try runClient(["snapshots", "--profile", "nas"], in: work)
            #expect(named.status == 0 && named.stdout.split(separator: "\n").count == 1, "\(named.stderr)")

            let target = work.path + "/restored"
            let restored = try runClient(["restore", "--to", target, "a.txt"], in: work)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(FileManager.default.contents(atPath: target + "/a.txt") == Data("kept".utf8))

            // --id wins over the profile's: another id has no snapshot to restore.
            let other = try runClient(["restore", "--to", work.path + "/other", "--id", "desktop"], in: work)
            #expect(other.status == 1, "\(other.stdout)\(other.stderr)")
            // A profile without an id, and no --id: a usage error naming both.
            let noID = try runClient(["snapshots", "--profile", "noid"], in: work)
            #expect(noID.status == 64, "\(noID.stderr)")
            #expect(noID.stderr.contains("--id"), "\(noID.stderr)")
            let missing = try runClient(["snapshots", "--profile", "nosuch"], in: work)
            #expect(missing.status == 64 && missing.stderr.contains("no profile \"nosuch\""), "\(missing.stderr)")
        }
    }
}
