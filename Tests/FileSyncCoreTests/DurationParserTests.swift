import FileSyncCore
import Testing

@Suite("Durations")
struct DurationParserTests {
    @Test(
        "human durations parse to seconds",
        arguments: [
            ("90s", 90), ("15m", 900), ("1h", 3600), ("1d", 86400), ("1h30m", 5400), ("45", 45), (" 2H ", 7200),
        ])
    func valid(text: String, seconds: Int) throws {
        #expect(try DurationParser.seconds(from: text) == seconds)
    }

    @Test("anything else is explained", arguments: ["", "0", "-5", "5 minutes", "m", "1x", "10m5", "400d"])
    func invalid(text: String) {
        let error = #expect(throws: FileSyncError.self) { try DurationParser.seconds(from: text) }
        #expect(error?.code == .invalidSetting)
    }

    @Test("formatting reads back to the same value", arguments: [1, 59, 60, 90, 3600, 5400, 86400, 90061])
    func format(seconds: Int) throws {
        #expect(try DurationParser.seconds(from: DurationParser.format(seconds)) == seconds)
    }
}
