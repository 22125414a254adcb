import FileSyncSystem
import Foundation
import Testing

extension EndToEnd {
    @Suite("--ping-url") struct PingTests {
        @Test("a successful run pings URL/start then URL")
        func success() throws {
            let work = try TemporaryDirectory("ping")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            let server = try ServerProcess(root: root, in: work)
            let pings = try PingServer()
            let result = try runClient(
                ["--source", source, "--id", "p", "--ping-url", pings.url] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(pings.requested == ["/ping/abc/start", "/ping/abc"], "\(pings.requested)")
        }

        @Test("a failed run pings URL/start then URL/<exit code>")
        func failure() throws {
            let work = try TemporaryDirectory("ping-fail")
            let source = try work.subfolder("source")
            try KeyFile.create(work.path + "/secret")
            let pings = try PingServer()
            let port = try FirstContactTests.closedPort()
            let result = try runClient(
                [
                    "--source", source, "--id", "p", "--server", "127.0.0.1:\(port)", "--retries", "0",
                    "--secret-file", work.path + "/secret", "--ping-url", pings.url,
                ], in: work)
            #expect(result.status == 75, "\(result.stderr)")
            #expect(pings.requested == ["/ping/abc/start", "/ping/abc/75"], "\(pings.requested)")
        }

        @Test("a ping that cannot be delivered does not fail the backup")
        func unreachable() throws {
            let work = try TemporaryDirectory("ping-down")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            let server = try ServerProcess(root: root, in: work)
            let port = try FirstContactTests.closedPort()
            let result = try runClient(
                ["--source", source, "--id", "p", "--ping-url", "http://127.0.0.1:\(port)/x"] + server.connect,
                in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("ping failed"), "\(result.stderr)")
            // In plain words, never SwiftNIO's dump of its connection attempts.
            #expect(result.stderr.contains("nothing is listening on 127.0.0.1:\(port)"), "\(result.stderr)")
            #expect(!result.stderr.contains("SingleConnectionFailure"), "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/p/one.txt"))
        }
    }
}
