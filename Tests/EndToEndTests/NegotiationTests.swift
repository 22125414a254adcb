import FileSyncCore
import Foundation
import Testing

extension EndToEnd {
    @Suite("Capability negotiation") struct NegotiationTests {
        @Test(
            "READY lists only what is in force: no unknown name, no repeat, no tasksPerPart without binaryTasks",
            arguments: [
                (["tasksPerPart", "deflate", "deflate", "bogus"], ["deflate"]),
                (["tasksPerPart", "binaryTasks", "zstd"], ["tasksPerPart", "binaryTasks", "zstd"]),
                (["chunkerV1", "resume"], ["resume"]),
                (["chunks", "chunkerV1"], ["chunks", "chunkerV1"]),
                ([], []),
            ] as [([String], [String])])
        func readyCapabilities(offered: [String], expected: [String]) throws {
            let work = try TemporaryDirectory("negotiate")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work, tls: false)
            defer { server.stop() }
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(id: "negotiator", server: server, folder: work, capabilities: offered)
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == expected)
        }
    }
}
