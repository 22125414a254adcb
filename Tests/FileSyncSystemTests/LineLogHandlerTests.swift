import FileSyncSystem
import Foundation
import Logging
import Testing

@Suite("Log lines")
struct LineLogHandlerTests {
    let time = Date(timeIntervalSince1970: 1_796_000_000.25)

    @Test("text: time, level, logger, the metadata sorted, then the message, on one line")
    func text() {
        let line = LineLogHandler.line(
            format: .text, time: time, level: .info, label: "filesync-server", message: "session started",
            metadata: ["peer": "127.0.0.1:5000", "client": "alpha"])
        #expect(
            line == "2026-11-30T00:53:20.250Z info filesync-server: client=alpha peer=127.0.0.1:5000 session started")
    }

    @Test("json: one object, the four fields and the metadata, which never replaces one of them")
    func json() throws {
        let line = LineLogHandler.line(
            format: .json, time: time, level: .warning, label: "filesync-client", message: "a \"quoted\"\nline",
            metadata: ["client": "alpha", "message": "ignored"])
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(
            object == [
                "time": "2026-11-30T00:53:20.250Z", "level": "warning", "logger": "filesync-client",
                "message": "a \"quoted\"\nline", "client": "alpha",
            ])
    }
}
