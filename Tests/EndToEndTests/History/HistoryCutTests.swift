import FileSyncCore
import Foundation
import GRDB
import TestSupport
import Testing

extension EndToEnd {
    @Suite("Snapshots of files cut by the client") struct HistoryCutTests {
        @Test("a large file from a chunkerV1 client is cataloged as cut like the history, and its snapshot restores")
        func clientCutIsTheHistorysCut() throws {
            let work = try TemporaryDirectory("history-cut")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            var generator = SeededGenerator(seed: 31)
            // Over the direct writer's 8 MiB, so that the session computes the whole SHA-256 as it writes.
            try SampleTree.write(TestData.bytes(12 << 20, from: &generator), to: source + "/big.bin")
            let server = try ServerProcess(root: root, in: work)
            defer { server.stop() }
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "cut")
            #expect(try Self.historyCut(root: root, id: "cut", path: "big.bin") == true)

            // The snapshot took the client's chunks: every byte of it checks, and it restores exactly.
            let check = try Command.run(Harness.server, ["check", "--root", root, "--read-data"], in: work)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            let target = try work.subfolder("restored")
            let result = try client.restore(id: "cut", to: target)
            #expect(result.status == 0, "\(result.stderr)")
            let restored = try TreeSnapshot(of: target)
            let original = try TreeSnapshot(of: source)
            #expect(restored == original, "differences: \(restored.differences(from: original))")
        }

        /// The catalog's `historyCut` flag of `path` for client `id`, or `nil` if not cataloged.
        static func historyCut(root: String, id: String, path: String) throws -> Bool? {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            let catalog = try DatabaseQueue(
                path: root + "/.filesync/\(id)/catalog.sqlite", configuration: configuration)
            return try catalog.read {
                try Bool.fetchOne($0, sql: "SELECT historyCut FROM file WHERE path = ?", arguments: [path])
            }
        }
    }
}
