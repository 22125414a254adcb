import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Server first contact and log format") struct ServerFirstContactTests {
        @Test("filesync-server --version prints the release and the protocol version")
        func version() throws {
            let work = try TemporaryDirectory("version")
            let result = try Command.run(Harness.server, ["--version"], in: work, timeout: 30)
            #expect(result.status == 0)
            #expect(result.stdout == "filesync-server 1.0.0, protocol version \(ProtocolLimits.version)\n")
        }

        @Test("--log-format json: every log line is one JSON object with time, level, logger, message and metadata")
        func jsonLog() throws {
            let work = try TemporaryDirectory("jsonlog")
            let root = try work.subfolder("root")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("hello".utf8), to: source + "/a.txt")
            let server = try ServerProcess(root: root, in: work, extra: ["--log-format", "json"])
            #expect(try runClient(["--source", source, "--id", "alpha"] + server.connect, in: work).status == 0)
            server.stop()
            let lines = server.log.split(separator: "\n")
            #expect(!lines.isEmpty)
            var finished = false
            for line in lines {
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "not JSON: \(line)")
                #expect(object["logger"] == "filesync-server")
                #expect(object["time"]?.hasSuffix("Z") == true && object["level"] != nil && object["message"] != nil)
                if object["message"] == "session finished" {
                    finished = true
                    #expect(object["client"] == "alpha" && object["stored"] == "1")
                }
            }
            #expect(finished)
        }

        @Test("the client's --log-format json makes every line on stderr one JSON object, its own warnings too")
        func clientJSONLog() throws {
            let work = try TemporaryDirectory("client-jsonlog")
            let root = try work.subfolder("root")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("hello".utf8), to: source + "/a.txt")
            let server = try ServerProcess(root: root, in: work, tls: false)
            // A secret readable by others makes the client warn, as ssh does.
            let secret = work.path + "/open.secret"
            try KeyFile.write(server.secret, to: secret)
            #expect(chmod(secret, 0o644) == 0)
            let result = try runClient(
                ["--source", source, "--id", "alpha", "--secret-file", secret, "--log-format", "json", "-v"]
                    + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.contains { $0.contains("accessible by group or others") }, "\(result.stderr)")
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
                #expect(object?["logger"] == "filesync-client" && object?["message"] != nil, "not JSON: \(line)")
            }
        }

        @Test("a wrong secret is logged as such once a minute per address, and recorded as refused (auth)")
        func wrongSecretLogged() throws {
            let work = try TemporaryDirectory("wrongsecret")
            let root = try work.subfolder("root")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("hello".utf8), to: source + "/a.txt")
            let server = try ServerProcess(root: root, in: work, tls: false)
            try KeyFile.create(work.path + "/wrong.secret")
            for _ in 0..<3 {
                let result = try runClient(
                    ["--source", source, "--id", "laptop", "--secret-file", work.path + "/wrong.secret"]
                        + server.connect, in: work)
                #expect(result.status == 77)
            }
            // Each session is recorded once it ended: wait (bounded) for the third.
            var refused = 0
            let deadline = Date().addingTimeInterval(30)
            while refused < 3 && Date() < deadline {
                let status = try Command.run(
                    Harness.server, ["status", "--root", root, "--json"], in: work, timeout: 30)
                let document = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                let clients = document?["clients"] as? [[String: Any]] ?? []
                let sessions = clients.first { $0["id"] as? String == "laptop" }?["sessions"] as? [String: Int]
                refused = sessions?["refused"] ?? 0
                if refused < 3 { usleep(100_000) }
            }
            #expect(refused == 3)
            // The session's record and its log line are written by different parts of the server:
            // wait (bounded) for the line too, then count.
            let line = "client at 127.0.0.1 failed authentication (wrong secret?)"
            let logDeadline = Date().addingTimeInterval(10)
            while !server.log.contains(line) && Date() < logDeadline { usleep(50_000) }
            let said = server.log.components(separatedBy: line)
            #expect(said.count - 1 == 1, "\(server.log)")
            let status = try Command.run(Harness.server, ["status", "--root", root], in: work, timeout: 30)
            #expect(status.stdout.contains("refused (auth)"), "\(status.stdout)")
        }

        @Test("a client refused for its protocol version is recorded under its id as refused (version)")
        func versionRefusalRecorded() throws {
            let work = try TemporaryDirectory("version-refused")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, tls: false)
            let raw = try RawConnection(port: server.port)
            try raw.send(.hello(Hello(version: 999, minVersion: 999, clientId: "future", capabilities: [])))
            guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR") }
            #expect(error.code == FileSyncError.Code.unsupportedVersion.rawValue)
            var said = ""
            let deadline = Date().addingTimeInterval(30)
            while !said.contains("refused (version)") && Date() < deadline {
                said = try Command.run(Harness.server, ["status", "--root", root], in: work, timeout: 30).stdout
                if !said.contains("refused (version)") { usleep(100_000) }
            }
            #expect(said.contains("future") && said.contains("refused (version)"), "\(said)")
        }
    }
}
