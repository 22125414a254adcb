import FileSyncCore
import Foundation

/// The first-run questions, asked one at a time on the terminal, each with a default in brackets.
/// A bad answer is explained and asked again; an empty answer takes the default.
public struct SetupWizard {
    public var read: () -> String?
    public var write: (String) -> Void
    /// The discovery interface offered when none is saved: the first non-loopback multicast one.
    public var defaultInterface: () -> String = { "127.0.0.1" }

    public init(
        read: @escaping () -> String? = { readLine(strippingNewline: true) },
        write: @escaping (String) -> Void = {
            print($0, terminator: ""); fflush(nil)
        }
    ) {
        self.read = read
        self.write = write
    }

    /// Asks for every setting, offering `current` values (or built-in defaults) as defaults.
    public func ask(current: SavedSettings) throws -> SavedSettings {
        write("filesync-server setup: press Enter to accept the value in [brackets].\n")
        var answers = current
        answers.root = try question("Storage folder", default: current.root ?? NSHomeDirectory() + "/filesync-backups")
        {
            try SettingValidation.root($0)
        }
        answers.port = try question("TCP port", default: String(current.port ?? Endpoint.defaultPort)) {
            try SettingValidation.port($0)
        }
        answers.interval = try question("Sync interval (e.g. 90s, 15m, 1h, 1d)", default: current.interval ?? "1h") {
            _ = try SettingValidation.interval($0)
            return $0.trimmingCharacters(in: .whitespaces)
        }
        answers.name = try question("Server name", default: current.name ?? Self.hostName()) {
            try SettingValidation.name($0)
        }
        answers.listen = try question("Listen address (0.0.0.0: every interface)", default: current.listen ?? "0.0.0.0")
        {
            try SettingValidation.listenAddress($0)
        }
        let interface = current.interface ?? defaultInterface()
        answers.interface = try question("Discovery interface (its IPv4 address or name, or off)", default: interface) {
            try SettingValidation.discoveryInterface($0)
        }
        let retention = current.retention ?? RetentionPolicy.defaults.counts
        answers.retention = try question(
            "Snapshots to keep: last, hourly, daily, weekly, monthly, yearly", default: retention
        ) {
            try RetentionPolicy(counts: $0).counts
        }
        return answers
    }

    private func question<T>(_ prompt: String, default value: String, parse: (String) throws -> T) throws -> T {
        while true {
            write("\(prompt) [\(value)]: ")
            guard let line = read() else {
                write("\n")
                throw FileSyncError(.invalidSetting, "setup cancelled: no more input")
            }
            let answer = line.trimmingCharacters(in: .whitespaces).isEmpty ? value : line
            do {
                return try parse(answer)
            } catch let error as FileSyncError {
                write("  \(error.message). Please try again.\n")
            }
        }
    }

    public static func hostName() -> String {
        let name = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "filesync"
        return name.isEmpty ? "filesync" : String(name.prefix(64))
    }
}
