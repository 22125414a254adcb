import FileSyncCore
import FileSyncSystem
import Foundation

/// A named profile of the client's configuration file, `$XDG_CONFIG_HOME/filesync/client.json`:
///
///     {"profiles": {"default": {"source": "/home/ana", "id": "laptop", "exclude": ["*.iso"]}}}
///
/// `source` is a folder, or a list of folders (several sources, each stored under its name).
///
/// Flags given on the command line win over the profile's values.
struct ClientProfile: Equatable {
    var source: [String] = []
    var id: String?
    var server: String?
    var serverName: String?
    var secretFile: String?
    var keyFile: String?
    var exclude: [String] = []
    var excludeFrom: [String] = []
    var excludeLargerThan: String?
    var bwlimit: String?
    var pingUrl: String?
    var delete = false
    var excludeCaches = false
    var oneFileSystem = false

    /// The keys a profile may hold, and their JSON types.
    static let stringKeys = [
        "source", "id", "server", "serverName", "secretFile", "keyFile", "excludeLargerThan", "bwlimit", "pingUrl",
    ]
    static let listKeys = ["exclude", "excludeFrom"]
    static let flagKeys = ["delete", "excludeCaches", "oneFileSystem"]

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
        return try ClientProfile(object, at: "\(path): key \"profiles.\(name)")
    }

    private init(_ object: [String: Any], at place: String) throws {
        for (key, value) in object {
            let wrong = { (expected: String) in
                FileSyncError(.invalidSetting, "\(place).\(key)\": \(expected)")
            }
            if key == "source" {
                if let text = value as? String {
                    source = [text]
                } else if let list = value as? [String], !list.isEmpty {
                    source = list
                } else {
                    throw wrong("must be a string or a non-empty list of strings")
                }
            } else if Self.stringKeys.contains(key) {
                guard let text = value as? String else { throw wrong("must be a string") }
                set(key, text)
            } else if Self.listKeys.contains(key) {
                guard let list = value as? [String] else { throw wrong("must be a list of strings") }
                if key == "exclude" { exclude = list } else { excludeFrom = list }
            } else if Self.flagKeys.contains(key) {
                guard let flag = value as? Bool else { throw wrong("must be true or false") }
                if key == "delete" {
                    delete = flag
                } else if key == "excludeCaches" {
                    excludeCaches = flag
                } else {
                    oneFileSystem = flag
                }
            } else {
                throw wrong(
                    "unknown key (known: \((Self.stringKeys + Self.listKeys + Self.flagKeys).joined(separator: ", ")))")
            }
        }
    }

    private mutating func set(_ key: String, _ text: String) {
        switch key {
        case "id": id = text
        case "server": server = text
        case "serverName": serverName = text
        case "secretFile": secretFile = text
        case "keyFile": keyFile = text
        case "excludeLargerThan": excludeLargerThan = text
        case "bwlimit": bwlimit = text
        default: pingUrl = text
        }
    }
}
