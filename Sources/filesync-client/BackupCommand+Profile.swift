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
        command.id = id ?? profile.texts["id"]
        command.exclude = (profile.lists["exclude"] ?? []) + exclude
        command.excludeFrom = (profile.lists["excludeFrom"] ?? []) + excludeFrom
        command.excludeLargerThan = excludeLargerThan ?? profile.texts["excludeLargerThan"]
        command.bwlimit = bwlimit ?? profile.texts["bwlimit"]
        command.pingUrl = pingUrl ?? profile.texts["pingUrl"]
        command.schedule = schedule ?? profile.texts["schedule"]
        command.compressLevel = compressLevel ?? profile.numbers["compressLevel"]
        command.zstdLevel = zstdLevel ?? profile.numbers["zstdLevel"]
        command.delete = delete || profile.isOn("delete")
        command.deleteExcluded = deleteExcluded || profile.isOn("deleteExcluded")
        command.excludeCaches = excludeCaches || profile.isOn("excludeCaches")
        command.oneFileSystem = oneFileSystem || profile.isOn("oneFileSystem")
        command.noXattrs = !xattrs && (noXattrs || profile.isOff("xattrs"))
        command.noCache = noCache || profile.isOff("cache")
        command.watching.watchDelay = watching.watchDelay ?? profile.texts["watchDelay"]
        command.watching.watchDeleteDelay = watching.watchDeleteDelay ?? profile.texts["watchDeleteDelay"]
        command.watching.rescanInterval = watching.rescanInterval ?? profile.texts["rescanInterval"]
        // What one run asks for wins over a profile's way of running: a dry run is one run, printed.
        if !dryRun && !discover {
            command.loop = loop || (profile.isOn("loop") && !watching.watch)
            command.watching.watch = watching.watch || (profile.isOn("watch") && !loop)
            command.quiet = quiet || profile.isOn("quiet")
        }
        command.connection = connection.withProfile(profile)
        if command.loop && command.watching.watch {
            throw FileSyncError(
                .invalidSetting,
                "\(ClientProfile.path): \"loop\" and \"watch\" do not go together (--watch also follows NEXT_SYNC)")
        }
        return command
    }
}
