import ArgumentParser
import FileSyncCore

/// Whom `snapshots` and `restore` talk to and as whom: their flags first, then, as for a backup,
/// the profile (`--profile NAME`, else `default` when `client.json` has one): its server (or
/// server name and discovery settings), secret and key files, TLS and timeouts, and its id when
/// `--id` is not given. So the commands work right after `filesync-client setup`.
struct HistoryCommandTarget {
    let connection: ConnectionOptions
    let id: ClientID

    /// - Throws: a ``ValidationError`` (exit 64) for a bad profile, or when neither `--id` nor the
    ///   profile names the client.
    init(connection: ConnectionOptions, id: String?, profile name: String?) throws {
        do {
            let profile = try ClientProfile.load(name ?? "default", required: name != nil)
            self.connection = profile.map { connection.withProfile($0) } ?? connection
            guard let id = id ?? profile?.texts["id"] else {
                throw ValidationError(
                    "--id ID is required (or \"id\" in a profile of \(ClientProfile.path), with --profile NAME)")
            }
            do {
                self.id = try ClientID(validating: id)
            } catch let error as FileSyncError where profile != nil && id == profile?.texts["id"] {
                throw FileSyncError(
                    .invalidSetting, "\(ClientProfile.path): key \"profiles.\(name ?? "default").id\": \(error.message)"
                )
            }
        } catch let error as FileSyncError {
            throw ValidationError(error.message)
        }
    }
}
