import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

/// A named profile of the client's configuration file, `$XDG_CONFIG_HOME/filesync/client.json`:
///
///     {"profiles": {"default": {"source": "/home/ana", "id": "laptop", "exclude": ["*.iso"]}}}
///
/// `source` is a folder, or a list of folders (several sources, each stored under its name). The
/// other keys are the backup command's options, named as the flags in camel case (``Key``); a
/// flag that turns something off is a key set to `false` (`"xattrs": false` for `--no-xattrs`).
///
/// Flags given on the command line win over the profile's values.
struct ClientProfile: Equatable {
    /// What kind of value a key takes, and how it is checked.
    enum Kind {
        case text, list, flag
        /// A duration longer than zero (`10s`, `5m`, `1h`).
        case duration
        /// A duration of whole seconds, at least one (`15m`, `1h`, `1d`).
        case interval
        /// A size or rate (`500K`, `20M`, `1G`).
        case size
        /// A whole number in the range.
        case number(ClosedRange<Int>)
        /// `HOST:PORT` (or `HOST`: port 7733).
        case endpoint
        /// An http or https URL (`pingUrl`).
        case url
        /// A client id (`id`), by the rules of §6.1.
        case clientID
        /// A multicast group's `ADDRESS:PORT` (`group`): the port is required.
        case group
    }

    /// The keys a profile may hold (besides `source`). Left out on purpose: what one invocation
    /// asks (`--discover`, `--dry-run`, `--json`, `--json-progress`, `--progress`, `--no-progress`,
    /// `-v`, `--log-format`) and `--accept-new-fingerprint`, which must stay a deliberate act.
    static let keys: [String: Kind] = [
        "id": .clientID, "server": .endpoint, "serverName": .text, "secretFile": .text, "keyFile": .text,
        "pingUrl": .url, "interface": .text, "group": .group, "excludeLargerThan": .size, "bwlimit": .size,
        "exclude": .list, "excludeFrom": .list,
        "delete": .flag, "deleteExcluded": .flag, "excludeCaches": .flag, "oneFileSystem": .flag, "loop": .flag,
        "watch": .flag, "xattrs": .flag, "cache": .flag, "tls": .flag, "quiet": .flag,
        "watchDelay": .duration, "watchDeleteDelay": .duration, "rescanInterval": .duration, "retryFor": .duration,
        "retryWait": .duration, "timeout": .duration, "discoveryTimeout": .duration, "schedule": .interval,
        "compressLevel": .number(0...9), "zstdLevel": .number(0...19), "retries": .number(0...1000),
    ]

    var source: [String] = []
    /// The values of text, duration and size keys.
    var texts: [String: String] = [:]
    var lists: [String: [String]] = [:]
    var flags: [String: Bool] = [:]
    var numbers: [String: Int] = [:]

    /// Whether the profile turns on the flag `key` (a flag given on the command line stays on).
    func isOn(_ key: String) -> Bool { flags[key] == true }
    /// Whether the profile turns off what `key` names (`"xattrs": false`).
    func isOff(_ key: String) -> Bool { flags[key] == false }

    /// The configuration file's path.
    static var path: String { XDGPaths().config + "/client.json" }

    /// The profile `name` of the file at `path`; `nil` when the file does not exist and no profile
    /// was asked for by name (`required`).
    ///
    /// - Throws: `invalidSetting` naming the file, the key and the reason.
    static func load(_ name: String, required: Bool, path: String = ClientProfile.path) throws -> ClientProfile? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if !required && !FileManager.default.fileExists(atPath: path) { return nil }
            throw FileSyncError(.invalidSetting, "\(path): cannot read the file (missing or unreadable)")
        }
        guard let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw FileSyncError(.invalidSetting, "\(path): not a JSON object")
        }
        guard let profiles = top["profiles"] as? [String: Any] else {
            throw FileSyncError(.invalidSetting, "\(path): key \"profiles\": missing, or not an object of profiles")
        }
        guard let entry = profiles[name] else {
            if !required { return nil }
            let known = profiles.keys.sorted().joined(separator: ", ")
            throw FileSyncError(.invalidSetting, "\(path): no profile \"\(name)\" (profiles: \(known))")
        }
        guard let object = entry as? [String: Any] else {
            throw FileSyncError(.invalidSetting, "\(path): key \"profiles.\(name)\": not an object")
        }
        var profile = ClientProfile()
        for (key, value) in object {
            do {
                try profile.set(key, value)
            } catch let reason as Reason {
                throw FileSyncError(.invalidSetting, "\(path): key \"profiles.\(name).\(key)\": \(reason.text)")
            }
        }
        return profile
    }

    /// Why a value was refused.
    private struct Reason: Error {
        var text: String
    }

    private mutating func set(_ key: String, _ value: Any) throws {
        if key == "source" {
            if let text = value as? String {
                source = [text]
            } else if let list = value as? [String], !list.isEmpty {
                source = list
            } else {
                throw Reason(text: "must be a string or a non-empty list of strings")
            }
            return
        }
        guard let kind = Self.keys[key] else {
            throw Reason(text: "unknown key (known: \((["source"] + Self.keys.keys.sorted()).joined(separator: ", ")))")
        }
        switch kind {
        case .list:
            guard let list = value as? [String] else { throw Reason(text: "must be a list of strings") }
            lists[key] = list
        case .flag:
            guard let flag = value as? Bool else { throw Reason(text: "must be true or false") }
            flags[key] = flag
        case .number(let range):
            guard let number = value as? Int, range.contains(number) else {
                throw Reason(text: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            numbers[key] = number
        default:
            guard let text = value as? String else { throw Reason(text: "must be a string") }
            try Self.check(text, as: kind)
            texts[key] = text
        }
    }

    /// Checks a text value of `kind`.
    private static func check(_ text: String, as kind: Kind) throws {
        switch kind {
        case .duration:
            guard let duration = try? DurationParser.duration(from: text), duration > .zero else {
                throw Reason(text: "\"\(text)\" is not a duration, e.g. 10s, 5m or 1h")
            }
        case .interval:
            guard (try? DurationParser.seconds(from: text)) != nil else {
                throw Reason(text: "\"\(text)\" is not a duration of whole seconds, e.g. 15m, 1h or 1d")
            }
        case .size:
            guard RateLimit.parse(text) != nil else {
                throw Reason(text: "\"\(text)\" is not a size, e.g. 500K, 20M or 1G")
            }
        case .endpoint:
            guard (try? Endpoint(parsing: text, defaultPort: Endpoint.defaultPort)) != nil else {
                throw Reason(text: "\"\(text)\" is not HOST:PORT or HOST")
            }
        case .url:
            guard HealthPing(url: text, logger: Logger(label: "filesync-client")) != nil else {
                throw Reason(text: "\"\(text)\" is not an http or https URL")
            }
        case .clientID:
            do {
                _ = try ClientID(validating: text)
            } catch let error as FileSyncError {
                throw Reason(text: error.message)
            }
        case .group:
            guard (try? Endpoint(parsing: text)) != nil else {
                throw Reason(text: "\"\(text)\" is not ADDRESS:PORT, e.g. 239.255.77.33:7733")
            }
        default:
            break
        }
    }
}
