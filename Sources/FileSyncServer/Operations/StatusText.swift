import Foundation

/// The words and numbers `status` and the status page show: ages, sizes, times.
public enum StatusText {
    /// `42s`, `5m`, `3h 20m`, `2d 4h`.
    public static func age(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        switch total {
        case ..<60: return "\(max(0, total))s"
        case ..<3600: return "\(total / 60)m"
        case ..<86_400: return "\(total / 3600)h \(total % 3600 / 60)m"
        default: return "\(total / 86_400)d \(total % 86_400 / 3600)h"
        }
    }

    /// `512 B`, `1.5 KB`, `20.3 MB`, `1.2 GB` (powers of 1000, as `df -H`).
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `2026-12-06 18:40:12 UTC`.
    public static func time(_ epoch: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: epoch))
    }

    /// The last result with its reason: `ok`, `refused (auth)`, `failed (connectionClosed)`.
    public static func result(_ client: ClientStatus) -> String {
        guard let result = client.lastResult else { return "-" }
        return client.lastReason.map { "\(result) (\($0))" } ?? result
    }

    /// One line for the live state: the active session and the queue.
    public static func live(_ live: LiveStatus) -> String {
        var parts: [String] = []
        if let active = live.active {
            var text = "active: \(active.clientId) (\(active.kind), \(age(active.seconds))"
            if let done = active.filesDone, let total = active.filesTotal {
                text += ", \(done)/\(total) files"
                if let received = active.bytesReceived, let bytes = active.bytesTotal {
                    text += ", \(self.bytes(received)) received of \(self.bytes(bytes))"
                }
            }
            parts.append(text + ")")
        } else {
            parts.append("active: none")
        }
        let queue = live.queue.map { "\($0.position). \($0.clientId) (waiting \(age($0.seconds)))" }
        parts.append("queue: " + (queue.isEmpty ? "empty" : queue.joined(separator: ", ")))
        return parts.joined(separator: "; ")
    }
}
