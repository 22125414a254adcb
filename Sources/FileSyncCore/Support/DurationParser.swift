import Foundation

/// Parses human durations such as `90s`, `15m`, `1h`, `1d` or `1h30m` into whole seconds.
public enum DurationParser {
    /// - Returns: the number of seconds, at least 1.
    /// - Throws: `invalidSetting` with an explanation a person can act on.
    public static func seconds(from text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let usage = "use a number with a unit, like 90s, 15m, 1h or 1d"
        guard !trimmed.isEmpty else { throw FileSyncError(.invalidSetting, "empty duration; \(usage)") }
        if let plain = Int(trimmed) {
            guard plain >= 1 else { throw FileSyncError(.invalidSetting, "duration must be at least 1s") }
            return plain
        }
        var total = 0
        var digits = ""
        for character in trimmed {
            if character.isASCII && character.isNumber {
                digits.append(character)
                continue
            }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: throw FileSyncError(.invalidSetting, "\"\(text)\" is not a duration; \(usage)")
            }
            guard let value = Int(digits), value <= 100_000 else {
                throw FileSyncError(.invalidSetting, "\"\(text)\" is not a duration; \(usage)")
            }
            total += value * unit
            digits = ""
        }
        guard digits.isEmpty, total >= 1 else {
            throw FileSyncError(.invalidSetting, "\"\(text)\" is not a duration; \(usage)")
        }
        guard total <= 366 * 86400 else {
            throw FileSyncError(.invalidSetting, "\"\(text)\" is longer than a year")
        }
        return total
    }

    /// Parses a duration that may also be given in milliseconds (`250ms`), for timeouts and waits.
    public static func duration(from text: String) throws -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.hasSuffix("ms"), let milliseconds = Int(trimmed.dropLast(2)), milliseconds >= 1 {
            return .milliseconds(milliseconds)
        }
        return .seconds(try seconds(from: text))
    }

    /// Formats seconds the way ``seconds(from:)`` reads them, e.g. `1h30m`.
    public static func format(_ seconds: Int) -> String {
        var rest = seconds
        var text = ""
        for (unit, name) in [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            text += "\(rest / unit)\(name)"
            rest %= unit
        }
        return text.isEmpty ? "0s" : text
    }
}
