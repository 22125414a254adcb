import Foundation

/// Parses the time of `restore --at`: `2026-12-01T09:00`, `2026-12-01T09:00:30` or `2026-12-01`
/// (midnight), optionally followed by `Z` or `+hh:mm` / `-hh:mm`. Without a zone it is local time,
/// as in restic.
public enum RestoreTime {
    /// Unix seconds, or `nil` when `text` has none of the accepted forms or names no valid date.
    public static func parse(_ text: String, timeZone: TimeZone = .current) -> Int64? {
        var body = Substring(text)
        var zone = timeZone
        if body.hasSuffix("Z") {
            zone = TimeZone(secondsFromGMT: 0)!
            body = body.dropLast()
        } else if body.count > 6, let sign = body[body.index(body.endIndex, offsetBy: -6)...].first,
            sign == "+" || sign == "-", body.contains("T")
        {
            let suffix = body.suffix(5)
            let parts = suffix.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]),
                let minutes = Int(parts[1]), hours <= 23, minutes <= 59,
                let fixed = TimeZone(secondsFromGMT: (sign == "+" ? 1 : -1) * (hours * 3600 + minutes * 60))
            else { return nil }
            zone = fixed
            body = body.dropLast(6)
        }
        return seconds(of: body, in: zone)
    }

    /// `yyyy-MM-dd` with an optional `THH:mm` or `THH:mm:ss`, in `zone`.
    private static func seconds(of body: Substring, in zone: TimeZone) -> Int64? {
        let halves = body.split(separator: "T", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        let date = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard date.count == 3, date[0].count == 4, date[1].count == 2, date[2].count == 2 else { return nil }
        var time: [Substring] = ["00", "00", "00"]
        if halves.count == 2 {
            let given = halves[1].split(separator: ":", omittingEmptySubsequences: false)
            guard given.count == 2 || given.count == 3, given.allSatisfy({ $0.count == 2 }) else { return nil }
            time.replaceSubrange(0..<given.count, with: given)
        }
        let numbers = (date + time).map { $0.allSatisfy { $0.isASCII && $0.isNumber } ? Int($0) : nil }
        guard numbers.allSatisfy({ $0 != nil }) else { return nil }
        var components = DateComponents()
        components.year = numbers[0]
        components.month = numbers[1]
        components.day = numbers[2]
        components.hour = numbers[3]
        components.minute = numbers[4]
        components.second = numbers[5]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // Reject what the calendar would roll over (2026-02-30, 25:00) instead of guessing.
        guard components.isValidDate(in: calendar), let when = calendar.date(from: components) else { return nil }
        return Int64(when.timeIntervalSince1970.rounded(.down))
    }
}
