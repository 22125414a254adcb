import Foundation
import Logging

/// The one log format of a command, on standard error, a line per event:
/// - `text` (the default): `2026-12-06T18:30:00.123Z info filesync-server: client=alpha session started`
/// - `json`: one object per line, `{"level":"info","logger":"filesync-server","message":"session
///   started","time":"2026-12-06T18:30:00.123Z","client":"alpha"}`: the four fixed fields and each
///   metadata key as a string field, keys sorted (for journald, Loki and jq).
public struct LineLogHandler: LogHandler {
    /// The formats `--log-format` takes.
    public enum Format: String, CaseIterable, Sendable {
        case text, json
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: Format

    public init(label: String, format: Format, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Self.line(
            format: format, time: Date(), level: event.level, label: label, message: "\(event.message)",
            metadata: merged)
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One event as a line (without its newline).
    public static func line(
        format: Format, time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let stamp = formatter.string(from: time)
        switch format {
        case .text:
            let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            // Metadata before the message, as swift-log's stream handler writes it.
            return ([stamp, level.rawValue, "\(label):"] + fields + [message]).joined(separator: " ")
        case .json:
            var object = ["time": stamp, "level": level.rawValue, "logger": label, "message": message]
            for (key, value) in metadata where object[key] == nil { object[key] = "\(value)" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? message
        }
    }

    /// Sets this handler up as the process's logging, once, at start.
    public static func bootstrap(format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, level: level) }
    }
}
