import FileSyncClient
import FileSyncCore
import Foundation

extension BackupCommand {
    /// This command with the values of its profile (`--profile`, else `default` when the file has
    /// it) filled in where no flag was given; a flag that is on stays on.
    func withProfile() throws -> BackupCommand {
        guard let profile = try ClientProfile.load(profile ?? "default", required: profile != nil) else { return self }
        var command = self
        command.source = source.isEmpty ? profile.source : source
        command.id = id ?? profile.id
        command.connection.server = connection.server ?? profile.server
        command.connection.serverName = connection.serverName ?? profile.serverName
        command.connection.secretFile = connection.secretFile ?? profile.secretFile
        command.connection.keyFile = connection.keyFile ?? profile.keyFile
        command.exclude = profile.exclude + exclude
        command.excludeFrom = profile.excludeFrom + excludeFrom
        command.excludeLargerThan = excludeLargerThan ?? profile.excludeLargerThan
        command.bwlimit = bwlimit ?? profile.bwlimit
        command.pingUrl = pingUrl ?? profile.pingUrl
        command.delete = delete || profile.delete
        command.excludeCaches = excludeCaches || profile.excludeCaches
        command.oneFileSystem = oneFileSystem || profile.oneFileSystem
        if let bwlimit = command.bwlimit, RateLimit.parse(bwlimit) == nil {
            throw FileSyncError(.invalidSetting, "\(ClientProfile.path): bwlimit \"\(bwlimit)\" is not a rate")
        }
        if let size = command.excludeLargerThan, RateLimit.parse(size) == nil {
            throw FileSyncError(.invalidSetting, "\(ClientProfile.path): excludeLargerThan \"\(size)\" is not a size")
        }
        return command
    }
}
