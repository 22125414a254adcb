import FileSyncCore
import Foundation
import Testing

@testable import FileSyncServer

@Suite("Live activity")
struct LiveActivityTests {
    @Test("the active session with its progress, the waiting ones by position, and a session gone when it left")
    func snapshot() {
        let live = LiveActivity()
        let wire = WireCounter()
        live.joined(1, clientId: "alpha", kind: "backup", wire: wire)
        live.activated(1)
        live.joined(2, clientId: "bravo", kind: "backup", wire: nil)
        live.joined(3, clientId: "charlie", kind: "restore", wire: nil)
        wire.add(received: 100)
        live.transferStarted(1, files: 10, bytes: 5000)
        wire.add(received: 1200)
        live.progress(1, filesDone: 4)
        var status = live.snapshot()
        #expect(status.active?.clientId == "alpha")
        #expect(status.active?.filesDone == 4 && status.active?.filesTotal == 10)
        #expect(status.active?.bytesReceived == 1200 && status.active?.bytesTotal == 5000)
        #expect(status.queue.map(\.clientId) == ["bravo", "charlie"])
        #expect(status.queue.map(\.position) == [1, 2])
        live.left(1)
        live.activated(2)
        status = live.snapshot()
        #expect(status.active?.clientId == "bravo")
        #expect(status.active?.filesTotal == nil)
        #expect(status.queue.map(\.clientId) == ["charlie"] && status.queue.first?.position == 1)
    }
}
