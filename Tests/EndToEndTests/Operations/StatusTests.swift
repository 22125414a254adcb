import Foundation
import GRDB
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Status") struct StatusTests {
        /// Test-only aging: moves a client's recorded sessions `seconds` into the past, straight in
        /// the server's session history (`<root>/.filesync/@server/sessions.sqlite`), as if its last
        /// backup were that old. No product code path does this.
        static func age(_ clientId: String, by seconds: Double, root: String) throws {
            // The server may hold the database for a moment (a checkpoint after each record).
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            let database = try DatabaseQueue(
                path: root + "/.filesync/@server/sessions.sqlite", configuration: configuration)
            // The server records a session after the client has gone: wait (bounded) for the record.
            let deadline = Date().addingTimeInterval(30)
            while try database.read({ db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM session WHERE clientId = ?", arguments: [clientId])
            }) == 0 && Date() < deadline {
                usleep(50_000)
            }
            try database.write { db in
                try db.execute(
                    sql: "UPDATE session SET startedAt = startedAt - ?, endedAt = endedAt - ? WHERE clientId = ?",
                    arguments: [seconds, seconds, clientId])
            }
        }

        static func status(_ arguments: [String], root: String, in work: TemporaryDirectory) throws -> CommandResult {
            try Command.run(Harness.server, ["status", "--root", root] + arguments, in: work, timeout: 60)
        }

        @Test("status: a fresh, a stale and a never-seen client, live from the server and from the disk")
        func freshStaleNever() throws {
            let work = try TemporaryDirectory("status")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, extra: ["--expect", "gamma"])
            for id in ["alpha", "bravo"] {
                let source = try work.subfolder("src-\(id)")
                try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: source + "/a.bin"))
                try Data(repeating: 8, count: 300).write(to: URL(fileURLWithPath: source + "/b.txt"))
                let result = try runClient(["--source", source, "--id", id] + server.connect, in: work)
                #expect(result.status == 0, "\(id): \(result.stderr)")
            }
            try Self.age("bravo", by: 3 * 86_400, root: root)

            let live = try Self.status(["--stale", "26h"], root: root, in: work)
            print(live.stdout)
            #expect(live.status == 1, "\(live.stderr)")
            let rows = live.stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true)
            }
            #expect(rows.contains { $0.first == "alpha" && $0.dropFirst().first == "fresh" })
            #expect(rows.contains { $0.first == "bravo" && $0.dropFirst().first == "stale" })
            #expect(rows.contains { $0.first == "gamma" && $0.dropFirst().first == "never" })
            #expect(live.stdout.split(separator: "\n").first?.contains("LAST ATTEMPT") == true, "\(live.stdout)")
            #expect(live.stdout.contains("server running: active: none; queue: empty"))
            #expect(live.stderr.contains("stale: bravo (last success 3d 0h ago)"))
            #expect(live.stderr.contains("never: gamma (never backed up)"))
            #expect(!live.stderr.contains("alpha"))

            let json = try Self.status(["--json", "--client", "alpha"], root: root, in: work)
            #expect(json.status == 0)
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(document["source"] as? String == "server")
            // Nothing runs: `active` is there all the same, null (README lists both keys).
            let idle = document["live"] as? [String: Any]
            #expect(idle?.keys.contains("active") == true && idle?["active"] is NSNull, "\(json.stdout)")
            let clients = try #require(document["clients"] as? [[String: Any]])
            #expect(clients.count == 1)
            #expect(clients.first?["lastResult"] as? String == "ok")
            #expect(clients.first?["filesStored"] as? Int == 2)
            #expect(clients.first?["bytesStored"] as? Int == 5300)
            #expect(clients.first?["snapshots"] as? Int == 1)

            let fresh = try Self.status(["--stale", "26h", "--client", "alpha"], root: root, in: work)
            #expect(fresh.status == 0, "\(fresh.stdout)\(fresh.stderr)")
            // A client the server never heard of is as late as can be; a bad duration is a usage error.
            let unknown = try Self.status(["--stale", "26h", "--client", "delta"], root: root, in: work)
            #expect(unknown.status == 1 && unknown.stderr.contains("never: delta"), "\(unknown.stderr)")
            let usage = try Self.status(["--stale", "soon"], root: root, in: work)
            #expect(usage.status == 64, "\(usage.stderr)")

            server.stop()
            let disk = try Self.status(["--stale", "26h", "--expect", "gamma"], root: root, in: work)
            print(disk.stdout)
            #expect(disk.status == 1)
            #expect(disk.stdout.contains("server not running (read from disk)"))
            #expect(disk.stderr.contains("stale: bravo") && disk.stderr.contains("never: gamma"))

            let missing = try Self.status(["--stale", "26h"], root: root + "/nowhere", in: work)
            #expect(missing.status == 2, "\(missing.stderr)")
        }
    }
}

extension EndToEnd.StatusTests {
    @Test("status --json from a running server shows the active backup's progress and the queue with positions")
    func liveQueue() throws {
        let work = try TemporaryDirectory("statuslive")
        let root = try work.subfolder("root")
        let server = try ServerProcess(root: root, in: work)
        let ids = ["alpha", "bravo", "charlie"]
        var clients: [Command] = []
        for (index, id) in ids.enumerated() {
            let source = try work.subfolder("src-\(id)")
            try SampleTree.make(
                at: source, folders: 1, subfolders: 1, filesPerFolder: 5, largeFileBytes: 60 << 20,
                seed: UInt64(index + 40))
            clients.append(try Command(Harness.client, ["--source", source, "--id", id] + server.connect, in: work))
        }
        // Bounded: at most 200 reads of the status while the three backups run.
        var seen: [String: Any]?
        for _ in 0..<200 where seen == nil {
            let result = try Self.status(["--json"], root: root, in: work)
            let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let live = document?["live"] as? [String: Any]
            let queue = live?["queue"] as? [[String: Any]] ?? []
            if let active = live?["active"] as? [String: Any], active["filesTotal"] != nil, !queue.isEmpty {
                seen = live
            }
        }
        for client in clients { #expect(client.wait().status == 0) }
        let live = try #require(seen, "never saw an active backup with others waiting")
        let active = try #require(live["active"] as? [String: Any])
        let queue = try #require(live["queue"] as? [[String: Any]])
        #expect(ids.contains(active["clientId"] as? String ?? ""))
        #expect(active["kind"] as? String == "backup" && active["position"] as? Int == 0)
        #expect((active["filesTotal"] as? Int ?? 0) > 0 && (active["bytesTotal"] as? Int ?? 0) >= 60 << 20)
        #expect(queue.map { $0["position"] as? Int } == Array(1...queue.count).map { $0 })
        #expect(Set(queue.compactMap { $0["clientId"] as? String }).isSubset(of: Set(ids)))
    }
}

extension EndToEnd.StatusTests {
    @Test("a session history that cannot be written is logged and the backups go on")
    func historyUnwritable() throws {
        let work = try TemporaryDirectory("historybroken")
        let root = try work.subfolder("root")
        // A folder where the database should be: SQLite cannot open it.
        try FileManager.default.createDirectory(
            atPath: root + "/.filesync/@server/sessions.sqlite", withIntermediateDirectories: true)
        let server = try ServerProcess(root: root, in: work)
        let source = try work.subfolder("source")
        try Data(repeating: 5, count: 1000).write(to: URL(fileURLWithPath: source + "/a.bin"))
        let result = try runClient(["--source", source, "--id", "alpha"] + server.connect, in: work)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/alpha/a.bin"))
        server.stop()
        #expect(server.log.contains("session history unavailable; backups go on without it"), "\(server.log)")
    }
}
