import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation

extension SetupCommand {
    /// Saves the secret (when it was pasted) and the profile, prints the crontab line, and writes
    /// systemd user units if the user says so.
    func save(_ answers: Answers, _ prompter: SetupPrompter) throws {
        let config = XDGPaths().config
        let secretFile = try answers.secretFile ?? saveSecret(answers.secret, in: config)
        var entry: [String: Any] = ["id": answers.id.string, "secretFile": secretFile]
        // A server chosen by name is found by name at each backup, wherever its address moves.
        if answers.byName {
            // With the discovery options setup was given, so that backups find it the same way.
            entry["serverName"] = connection.serverName ?? answers.serverName
            let discovery = [
                ("interface", connection.interface), ("group", connection.group),
                ("discoveryTimeout", connection.discoveryTimeout),
            ]
            for case (let key, let value?) in discovery { entry[key] = value }
        } else {
            entry["server"] = answers.server.description
        }
        entry["source"] = answers.sources.count == 1 ? answers.sources[0] : answers.sources
        // What the crontab line and the timer below run at; `--loop` and `--watch` follow it too.
        entry["schedule"] = DurationParser.format(answers.schedule.seconds)
        try ClientProfileFile.write(profile: profile, entry, to: ClientProfile.path)
        prompter.write("Saved the profile \"\(profile)\" in \(ClientProfile.path).\n")

        let command = [Self.executable, "-q", "--profile", profile] + (connection.noTls ? ["--no-tls"] : [])
        let every = DurationParser.format(answers.schedule.seconds)
        prompter.write("Back up now with: \(Self.executable) --profile \(profile)\n")
        prompter.write("To back up every \(every) with cron, add this line with `crontab -e`:\n")
        prompter.write("  \(answers.schedule.crontabLine(command.joined(separator: " ")))\n")
        let units = XDGPaths().configHome + "/systemd/user"
        guard try prompter.confirm("Or write systemd user timer units in \(units) instead?", default: false) else {
            prompter.write("No unit written.\n")
            return
        }
        let name = "filesync-backup-\(profile)"
        let (service, timer) = answers.schedule.systemdUnits(name: profile, command: command)
        try ConfigFile.write(Array(service.utf8), to: "\(units)/\(name).service", mode: 0o644, folderMode: 0o755)
        try ConfigFile.write(Array(timer.utf8), to: "\(units)/\(name).timer", mode: 0o644, folderMode: 0o755)
        prompter.write("Wrote \(units)/\(name).service and \(name).timer. Start the timer with:\n")
        prompter.write("  systemctl --user daemon-reload && systemctl --user enable --now \(name).timer\n")
    }

    /// Writes a pasted secret to `<config>/secret` (the client's default), or beside it as
    /// `secret-<profile>` when that file holds another server's secret; returns the path.
    private func saveSecret(_ secret: [UInt8], in config: String) throws -> String {
        let shared = config + "/secret"
        let existing = FileManager.default.fileExists(atPath: shared) ? try? KeyFile.load(shared) : nil
        if existing == secret { return shared }
        let path = existing == nil ? shared : config + "/secret-\(profile)"
        try KeyFile.write(secret, to: path)
        return path
    }

    /// This program's absolute path, for the crontab line and the units.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}
