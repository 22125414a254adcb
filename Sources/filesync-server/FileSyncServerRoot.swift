import ArgumentParser
import FileSyncServer

/// `filesync-server`: the server (`serve`, the default) and its administration commands.
@main
struct FileSyncServerRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filesync-server",
        abstract: "Receive backups from filesync clients on the local network, and keep their history.",
        discussion: """
            Without a subcommand, runs the server (`serve`): `filesync-server --root /srv/backup` is
            `filesync-server serve --root /srv/backup`. `prune` applies the retention policy by hand and
            reclaims space; `check` verifies that every kept snapshot can be restored; `status` shows each
            client's last backup and what the server is doing now.
            """,
        version: ServerVersion.description,
        subcommands: [ServerCommand.self, PruneCommand.self, CheckCommand.self, StatusCommand.self],
        defaultSubcommand: ServerCommand.self)
}
