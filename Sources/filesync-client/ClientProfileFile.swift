import FileSyncCore
import FileSyncSystem
import Foundation

/// Writes a profile into the client configuration file (`setup`), keeping the file's other profiles
/// and keys, readable for people to edit: pretty-printed, sorted keys, slashes not escaped, mode 0600.
enum ClientProfileFile {
    /// Sets the profile `name` to `entry` in the file at `path` (created with its folder if missing).
    ///
    /// - Throws: `invalidSetting` when the file exists but is not a JSON object (it is left alone).
    static func write(profile name: String, _ entry: [String: Any], to path: String) throws {
        var top: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw FileSyncError(
                    .invalidSetting,
                    "\(path) is not a JSON object: it was left as it is (fix or move it, then run setup again)")
            }
            top = object
        }
        var profiles = top["profiles"] as? [String: Any] ?? [:]
        profiles[name] = entry
        top["profiles"] = profiles
        let data = try JSONSerialization.data(
            withJSONObject: top, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try ConfigFile.write(Array(data) + Array("\n".utf8), to: path, mode: 0o600)
    }
}
