import FileSyncCore
import Foundation
import Testing

extension EndToEnd {
    /// Protocol.md §11.1: history is negotiated, so peers that predate it keep working.
    @Suite("History negotiation") struct HistoryNegotiationTests {
        @Test("a client without the history capability gets a backup session and no history in READY")
        func oldClientIsABackup() throws {
            let work = try TemporaryDirectory("old-client")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work, tls: false)
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(id: "old", server: server, folder: work, capabilities: ["resume"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else {
                throw TestFailure("no READY")
            }
            #expect(ready.capabilities == ["resume"])
            try raw.send(.filesInfo(FilesInfo(entries: [], final: true)))
            guard case .tasks? = try raw.receive() else { throw TestFailure("no TASKS for a backup") }
        }

        @Test("asking for a restore without announcing history is refused with unexpectedMessage")
        func restoreWithoutCapability() throws {
            let work = try TemporaryDirectory("no-capability")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work, tls: false)
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(id: "sneaky", server: server, folder: work, session: .restore)
            guard case .error(let error)? = try raw.receiveSkippingQueue() else {
                throw TestFailure("the session was not refused")
            }
            #expect(error.code == "unexpectedMessage")
        }

        @Test("with history announced, a snapshots session lists nothing for a new client and READY carries history")
        func emptyList() throws {
            let work = try TemporaryDirectory("empty-list")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work, tls: false)
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(
                id: "fresh", server: server, folder: work, capabilities: ["history"], session: .snapshots)
            guard case .ready(let ready)? = try raw.receive() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["history"])
            guard case .snapshots(let list)? = try raw.receive() else { throw TestFailure("no SNAPSHOTS") }
            #expect(list.snapshots.isEmpty && list.final)
        }

        @Test("a server run with --no-history does not announce history and treats the session as a backup")
        func serverWithoutHistory() throws {
            let work = try TemporaryDirectory("no-history")
            let server = try ServerProcess(
                root: try work.subfolder("root"), in: work, tls: false, extra: ["--no-history"])
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(
                id: "plain", server: server, folder: work, capabilities: ["history"], session: .restore)
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(!ready.capabilities.contains("history"))
        }
    }
}
