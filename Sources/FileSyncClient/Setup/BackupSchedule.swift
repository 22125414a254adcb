import FileSyncCore

/// How often a backup runs, as `setup` writes it for cron and for a systemd user timer. Pure.
public struct BackupSchedule: Sendable, Equatable {
    /// The interval, in seconds, as cron can express it (see ``init(seconds:)``).
    public let seconds: Int

    /// The nearest interval cron can run at: whole minutes that divide an hour, whole hours that
    /// divide a day, or one day (the minimum is one minute).
    public init(seconds: Int) {
        let candidates =
            [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30].map { $0 * 60 } + [1, 2, 3, 4, 6, 8, 12, 24].map { $0 * 3600 }
        self.seconds = candidates.min { abs($0 - seconds) < abs($1 - seconds) } ?? 3600
    }

    /// The five time fields of a crontab line.
    public var cronFields: String {
        switch seconds {
        case ..<3600: "*/\(seconds / 60) * * * *"
        case 3600: "0 * * * *"
        case 86400: "0 3 * * *"
        default: "0 */\(seconds / 3600) * * *"
        }
    }

    /// The same times as systemd's `OnCalendar=`.
    public var calendar: String {
        switch seconds {
        case ..<3600: "*:0/\(seconds / 60)"
        case 3600: "hourly"
        case 86400: "*-*-* 03:00:00"
        default: "0/\(seconds / 3600):00"
        }
    }

    /// The crontab line that runs `command` on this schedule.
    public func crontabLine(_ command: String) -> String { "\(cronFields) \(command)" }

    /// The systemd user service and timer that run `command` (its words) on this schedule: a
    /// oneshot service, and a timer at the crontab line's times that catches up a run missed while
    /// the machine was off.
    public func systemdUnits(name: String, command: [String]) -> (service: String, timer: String) {
        let exec = command.map(Self.systemdQuoted).joined(separator: " ")
        let service = """
            [Unit]
            Description=filesync backup (\(name))
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=oneshot
            ExecStart=\(exec)

            """
        let timer = """
            [Unit]
            Description=filesync backup (\(name)) every \(DurationParser.format(seconds))

            [Timer]
            OnCalendar=\(calendar)
            Persistent=true

            [Install]
            WantedBy=timers.target

            """
        return (service, timer)
    }

    /// A word of `ExecStart=`, quoted when it holds anything but plain characters.
    private static func systemdQuoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "/._-=:@+,~".contains($0) }
        guard !plain || word.isEmpty else { return word }
        let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$")
        return "\"\(escaped)\""
    }
}
