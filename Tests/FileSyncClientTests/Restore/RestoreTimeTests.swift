import FileSyncClient
import Foundation
import Testing

@Suite("restore --at times")
struct RestoreTimeTests {
    /// UTC+2, with no daylight saving: local times are two hours ahead of UTC.
    let zone = TimeZone(secondsFromGMT: 7200)!

    @Test("local times without a zone, with minutes, seconds or just a date (midnight)")
    func local() {
        #expect(RestoreTime.parse("2026-12-01T09:00", timeZone: zone) == 1_796_108_400)
        #expect(RestoreTime.parse("2026-12-01T09:00:30", timeZone: zone) == 1_796_108_430)
        #expect(RestoreTime.parse("2026-12-01", timeZone: zone) == 1_796_076_000)
    }

    @Test("Z and ±hh:mm override the local zone")
    func zones() {
        #expect(RestoreTime.parse("2026-12-01T09:00Z", timeZone: zone) == 1_796_115_600)
        #expect(RestoreTime.parse("2026-12-01T09:00:30Z", timeZone: zone) == 1_796_115_630)
        #expect(RestoreTime.parse("2026-12-01T09:00+01:00", timeZone: zone) == 1_796_112_000)
        #expect(RestoreTime.parse("2026-12-01T09:00-05:30", timeZone: zone) == 1_796_135_400)
        #expect(RestoreTime.parse("2026-12-01Z", timeZone: zone) == 1_796_083_200)
    }

    @Test(
        "anything else is refused",
        arguments: [
            "", "2026-12-01T9:00", "2026-12-1", "2026-13-01", "2026-02-30", "2026-12-01T25:00", "2026-12-01T09:00:61",
            "2026-12-01 09:00", "2026-12-01T09", "2026-12-01T09:00+1:00", "2026-12-01T09:00+01:00Z", "tomorrow",
            "+026-12-01", "2026-12-01T09:00:00:00",
        ])
    func refused(_ text: String) {
        #expect(RestoreTime.parse(text, timeZone: zone) == nil)
    }
}
