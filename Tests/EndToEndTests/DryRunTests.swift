import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// `--dry-run` (Protocol.md §4, "Dry run"): what a backup would do, with nothing sent or changed.
    @Suite("Dry run") struct DryRunTests {
        /// A source backed up once, then changed in every way a dry run reports.
        struct Changed {
            let work: TemporaryDirectory
            let source: String
            let root: String

            init() throws {
                work = try TemporaryDirectory("dry-run")
                source = try work.subfolder("source")
                root = try work.subfolder("root")
                for name in ["keep.txt", "change.txt", "mode.txt", "gone.txt", "swap", "docs/a.txt"] {
                    try FileManager.default.createDirectory(
                        atPath: source + "/docs", withIntermediateDirectories: true)
                    try SampleTree.write(Array("first \(name)".utf8), to: source + "/" + name)
                }
                let server = try ServerProcess(root: root, in: work)
                let first = try runClient(server.connect + ["--source", source, "--id", "laptop"], in: work)
                #expect(first.status == 0, "\(first.stderr)")
                server.stop()
                // What the next backup would do: one of each action.
                try SampleTree.write(Array("second, longer".utf8), to: source + "/change.txt")
                chmod(source + "/mode.txt", 0o600)
                try FileManager.default.removeItem(atPath: source + "/gone.txt")
                try SampleTree.write(Array("new".utf8), to: source + "/new.txt")
                try FileManager.default.createDirectory(atPath: source + "/fresh", withIntermediateDirectories: true)
                try SampleTree.write(Array("fresh".utf8), to: source + "/fresh/b.txt")
                try FileManager.default.removeItem(atPath: source + "/swap")
                try FileManager.default.createDirectory(atPath: source + "/swap", withIntermediateDirectories: true)
                try SampleTree.write(Array("c".utf8), to: source + "/swap/c.txt")
                // A partial a week and more old: a backup's planning would expire it.
                let partials = root + "/.filesync/laptop/partial"
                try FileManager.default.createDirectory(atPath: partials, withIntermediateDirectories: true)
                let stale = partials + "/" + String(repeating: "ab", count: 16) + "_9_1.part"
                try SampleTree.write(Array("stale".utf8), to: stale)
                setTime(stale, seconds: Int(Date().timeIntervalSince1970) - 30 * 86400, nanoseconds: 0)
            }

            var stalePartial: String {
                root + "/.filesync/laptop/partial/" + String(repeating: "ab", count: 16) + "_9_1.part"
            }
        }

        @Test(
            "a dry run lists new, changed, meta and delete entries and a total, sends no content, and leaves the server's tree and state identical"
        )
        func identity() throws {
            let setup = try Changed()
            let (work, source, root) = (setup.work, setup.source, setup.root)
            let server = try ServerProcess(root: root, in: work)
            defer { server.stop() }
            let before = try StatTree(of: root)

            let dry = try runClient(
                server.connect + ["--source", source, "--id", "laptop", "--delete", "--dry-run"], in: work)
            #expect(dry.status == 0, "\(dry.stderr)")
            let lines = Set(dry.stdout.split(separator: "\n").map(String.init))
            let expected = [
                "new      new.txt", "new      fresh", "new      fresh/b.txt", "new      swap/c.txt",
                "changed  change.txt", "changed  swap", "meta     mode.txt", "delete   gone.txt",
            ]
            #expect(lines.isSuperset(of: expected), "\(dry.stdout)")
            #expect(lines.count == expected.count + 1, "one line per entry and the total: \(dry.stdout)")
            #expect(
                dry.stdout.contains("dry run: 4 new, 2 changed, 1 meta, 1 to delete, 0 rejected; 4 files to send"),
                "\(dry.stdout)")

            let json = try runClient(
                server.connect + ["--source", source, "--id", "laptop", "--delete", "-n", "--json"], in: work)
            #expect(json.status == 0, "\(json.stderr)")
            let report = try json.json()
            #expect(report["dryRun"] as? Bool == true)
            #expect(report["new"] as? Int == 4 && report["changed"] as? Int == 2 && report["delete"] as? Int == 1)
            let entries = report["entries"] as? [[String: Any]] ?? []
            #expect(entries.contains { $0["action"] as? String == "delete" && $0["path"] as? String == "gone.txt" })

            // A client never seen: everything is new, and neither its folder nor its key is made.
            let fresh = try runClient(server.connect + ["--source", source, "--id", "newcomer", "-n"], in: work)
            #expect(fresh.status == 0, "\(fresh.stderr)")
            #expect(fresh.stdout.contains("new      keep.txt"), "\(fresh.stdout)")
            #expect(!FileManager.default.fileExists(atPath: work.path + "/config/filesync/keys/newcomer.key"))

            let after = try StatTree(of: root)
            #expect(after.differences(from: before).isEmpty, "changed by a dry run: \(after.differences(from: before))")
            #expect(!server.log.contains("session finished"), "a dry run is no backup: \(server.log)")

            // The real backup then does what the dry run said, and expires the partial it kept.
            let real = try runClient(
                server.connect + ["--source", source, "--id", "laptop", "--delete", "--json"], in: work)
            #expect(real.status == 0, "\(real.stderr)")
            let summary = try real.json()
            #expect(summary["sent"] as? Int == report["filesToSend"] as? Int)
            #expect(summary["deleted"] as? Int == 1)
            #expect(!FileManager.default.fileExists(atPath: setup.stalePartial))
            #expect(FileManager.default.fileExists(atPath: root + "/laptop/swap/c.txt"))
        }

        @Test("a server without the dryRun capability: the client stops before its manifest, exits 1 and says why")
        func olderServer() throws {
            let work = try TemporaryDirectory("dry-run-old")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("a".utf8), to: source + "/a.txt")
            let older = try OlderServer(withholding: [Capability.dryRun])
            let secret = work.path + "/secret"
            try KeyFile.write(older.secret, to: secret)
            let result = try runClient(
                [
                    "--server", "127.0.0.1:\(older.port)", "--no-tls", "--secret-file", secret, "--source", source,
                    "--id", "laptop", "--dry-run", "--retries", "0",
                ], in: work, timeout: 60)
            let recorded = try older.recorded()
            #expect(recorded.hello?.dryRun == true)
            #expect(recorded.hello?.capabilities.contains(Capability.dryRun) == true)
            #expect(recorded.framesAfterAuth.isEmpty, "the client sent \(recorded.framesAfterAuth)")
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("cannot do a dry run"), "\(result.stderr)")
            #expect(result.stdout.isEmpty, "\(result.stdout)")
            // An older server bound the new id to the key at AUTH, as for any backup: it is kept.
            #expect(FileManager.default.fileExists(atPath: work.path + "/config/filesync/keys/laptop.key"))
        }

        @Test("HELLO.dryRun without the dryRun capability is refused (unexpectedMessage) before authentication")
        func dryRunWithoutCapability() throws {
            let work = try TemporaryDirectory("dry-run-raw")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, tls: false)
            defer { server.stop() }
            let raw = try RawConnection(port: server.port)
            try raw.send(
                .hello(
                    Hello(
                        clientId: "sneaky", capabilities: ["resume"], clientNonce: Authenticator.nonce(),
                        dryRun: true)))
            guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR") }
            #expect(error.code == "unexpectedMessage")
            #expect(!FileManager.default.fileExists(atPath: root + "/sneaky"))
        }
    }
}
