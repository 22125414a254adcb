import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Queue") struct QueueTests {
        @Test("three clients at once are served one at a time, each into its own folder")
        func threeClientsOneAtATime() throws {
            let work = try TemporaryDirectory("queue")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let ids = ["alpha", "bravo", "charlie"]
            var sources: [String: String] = [:]
            for (index, id) in ids.enumerated() {
                let source = try work.subfolder("src-\(id)")
                try SampleTree.make(
                    at: source, folders: 2, subfolders: 3, filesPerFolder: 20, largeFileBytes: 40 << 20,
                    seed: UInt64(index + 10))
                sources[id] = source
            }
            let clients = try ids.map { id in
                try Command(
                    Harness.client, ["--source", sources[id]!, "--id", id] + server.connect + ["--json"],
                    in: work)
            }
            let results = clients.map { $0.wait() }
            for (id, result) in zip(ids, results) {
                #expect(result.status == 0, "\(id): \(result.stderr)")
                #expect(try TreeSnapshot(of: root + "/" + id) == TreeSnapshot(of: sources[id]!), "\(id) differs")
            }

            // The server's log must show sessions strictly one after another.
            let events = server.log.split(separator: "\n").compactMap { line -> (String, String)? in
                guard let client = line.firstMatch(of: /client=([a-z]+)/)?.1 else { return nil }
                if line.contains("session started") { return ("start", String(client)) }
                if line.contains("session finished") { return ("end", String(client)) }
                return nil
            }
            #expect(events.count == 6, "\(server.log)")
            for pair in stride(from: 0, to: events.count - 1, by: 2) {
                #expect(
                    events[pair].0 == "start" && events[pair + 1].0 == "end" && events[pair].1 == events[pair + 1].1,
                    "sessions overlap: \(events)")
            }
            #expect(server.log.contains(/position=[0-9]+ .*session queued/), "no client had to wait: \(server.log)")
        }

        @Test("a client that disconnects while queued or active releases the queue")
        func disconnectReleasesQueue() throws {
            let work = try TemporaryDirectory("release")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, tls: false)
            // An active session that goes away without a word...
            let first = try RawConnection(port: server.port)
            try first.authenticate(id: "ghost", server: server, folder: work)
            guard case .ready? = try first.receive() else { throw TestFailure("first session not ready") }
            // ...a second that waits in line and then hangs up...
            let second = try RawConnection(port: server.port)
            try second.authenticate(id: "quitter", server: server, folder: work)
            guard case .queued(let queued)? = try second.receive() else { throw TestFailure("second not queued") }
            #expect(queued.position == 1)
            withExtendedLifetime(second) {}
            // ...and a real client must still get its turn once the first disconnects.
            let source = try work.subfolder("source")
            try SampleTree.write(Array("data".utf8), to: source + "/a.txt")
            let client = try Command(
                Harness.client, ["--source", source, "--id", "real"] + server.connect, in: work)
            _ = consume second
            _ = consume first
            let result = client.wait(timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/real/a.txt"))
        }

        @Test("an active client that goes silent is dropped after the idle timeout and the next one proceeds")
        func silentClientIsDropped() throws {
            let work = try TemporaryDirectory("silent")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, tls: false, extra: ["--idle-timeout", "2s"])
            let silent = try RawConnection(port: server.port)
            try silent.authenticate(id: "silent", server: server, folder: work)
            guard case .ready? = try silent.receive() else { throw TestFailure("not ready") }

            let source = try work.subfolder("source")
            try SampleTree.write(Array("data".utf8), to: source + "/a.txt")
            let result = try runClient(
                ["--source", source, "--id", "patient"] + server.connect, in: work, timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(server.log.contains(/silent=2 s .*closing a silent connection/), "\(server.log)")
            // The silent connection was closed by the server.
            #expect(try silent.receive() == nil)
        }
    }
}

extension EndToEnd.QueueTests {
    @Test("an active client trickling a frame a byte a second cannot hold the queue past --idle-timeout")
    func tricklingClientIsDropped() throws {
        let work = try TemporaryDirectory("trickle")
        let root = try work.subfolder("root")
        let server = try ServerProcess(root: root, in: work, tls: false, extra: ["--idle-timeout", "2s"])
        let trickler = try RawConnection(port: server.port)
        try trickler.authenticate(id: "trickler", server: server, folder: work)
        guard case .ready? = try trickler.receive() else { throw TestFailure("not ready") }

        let source = try work.subfolder("source")
        try SampleTree.write(Array("data".utf8), to: source + "/a.txt")
        let started = Date()
        let patient = try Command(Harness.client, ["--source", source, "--id", "patient"] + server.connect, in: work)
        // A control frame of 1,000 bytes, its bytes sent one a second: bytes keep coming, a frame never
        // completes. The loop ends when the server has closed the connection (a send fails), or after
        // 40 s, which would hold the patient client that long.
        let frame: [UInt8] = [0x00, 0x00, 0x03, 0xEA, 0x01, 0x00] + Array(repeating: UInt8(ascii: " "), count: 998)
        var sent = 0
        while sent < 40, (try? trickler.sendRaw([frame[sent]])) != nil {
            sent += 1
            sleep(1)
        }
        let result = patient.wait(timeout: 60)
        let waited = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(sent < 10, "the trickling connection stayed open for \(sent) s")
        #expect(waited < 15, "the next client waited \(waited) s")
        #expect(server.log.contains(/silent=2 s .*closing a silent connection/), "\(server.log)")
        #expect(FileManager.default.fileExists(atPath: root + "/patient/a.txt"))
    }
}

extension EndToEnd.QueueTests {
    @Test("a client refused for a full queue is told when to come back: retryAfterSeconds within 1 ... 600")
    func queueFullCarriesAHint() throws {
        let work = try TemporaryDirectory("queue-full")
        let root = try work.subfolder("root")
        let server = try ServerProcess(root: root, in: work, tls: false, extra: ["--max-queue", "1"])
        let active = try RawConnection(port: server.port)
        try active.authenticate(id: "active", server: server, folder: work)
        guard case .ready? = try active.receive() else { throw TestFailure("not ready") }
        let waiting = try RawConnection(port: server.port)
        try waiting.authenticate(id: "waiting", server: server, folder: work)
        guard case .queued? = try waiting.receive() else { throw TestFailure("not queued") }
        let refused = try RawConnection(port: server.port)
        try refused.authenticate(id: "refused", server: server, folder: work)
        guard case .error(let error)? = try refused.receive() else { throw TestFailure("not refused") }
        #expect(error.code == FileSyncError.Code.queueFull.rawValue)
        let hint = try #require(error.retryAfterSeconds, "no hint: \(error)")
        // No session has ended yet: the active one is expected to take the default 30 s turn.
        #expect(hint >= 5 && hint <= 30, "\(hint)")
        withExtendedLifetime((active, waiting)) {}
    }
}
