import Foundation
import Testing

extension EndToEnd {
    /// `check` and `prune` given a root or id that does not exist: a usage error, nothing created,
    /// never "0 problems" (a monitoring job with a typo must not report a healthy server).
    @Suite("check and prune arguments") struct AdministrationArgumentTests {
        @Test("a root that is no server's storage folder, and an unknown or invalid id: exit 64, nothing created")
        func wrongRootOrID() throws {
            let work = try TemporaryDirectory("admin-arguments")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("x".utf8), to: source + "/x.txt")
            let server = try ServerProcess(root: root, in: work)
            _ = try HistoryClient(server: server, work: work).backup(source, id: "known")
            server.stop()
            let nowhere = work.path + "/no-such-root"
            let plain = try work.subfolder("plain-folder")
            let cases: [[String]] = [
                ["check", "--root", nowhere], ["check", "--root", plain], ["check", "--root", root, "--id", "nosuch"],
                ["check", "--root", root, "--id", "../x"], ["prune", "--root", nowhere, "--dry-run"],
                ["prune", "--root", root, "--id", "nosuch", "--dry-run"], ["prune", "--root", root, "--id", "nosuch"],
            ]
            for arguments in cases {
                let result = try Command.run(Harness.server, arguments, in: work)
                #expect(result.status == 64, "\(arguments): \(result.stdout)\(result.stderr)")
                #expect(!result.stdout.contains("0 problem"), "\(arguments): \(result.stdout)")
            }
            #expect(!FileManager.default.fileExists(atPath: nowhere))
            #expect(!FileManager.default.fileExists(atPath: root + "/.filesync/nosuch"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: plain).isEmpty)
            // The real root and id still work.
            let check = try Command.run(Harness.server, ["check", "--root", root, "--id", "known"], in: work)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(check.stdout.contains("1 client(s) checked: 0 problem(s)"), "\(check.stdout)")
        }

        @Test("a server that never had a client: check finds its root sound, with no client")
        func freshRoot() throws {
            let work = try TemporaryDirectory("admin-fresh")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            server.stop()
            let check = try Command.run(Harness.server, ["check", "--root", root], in: work)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(check.stdout.contains("0 client(s) checked: 0 problem(s)"), "\(check.stdout)")
        }
    }
}
