import ArgumentParser
import FileSyncCore
import FileSyncServer
import Foundation

/// `filesync-server prune`: the retention policy applied by hand, and the space reclaimed.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Forget the snapshots the retention policy does not keep and reclaim their space.",
        discussion: """
            Safe to run while the server runs (each client's history is locked while it is pruned) and to
            interrupt at any moment: what a kept snapshot needs is never deleted before it is safe elsewhere.
            Exit codes: 0 done, 1 failure, 64 usage.
            """)

    @Option(help: "The server's storage folder (default: the root in the saved config).") var root: String?
    @Option(
        help: """
            Config file to read the root and the retention counts from \
            (default: $XDG_CONFIG_HOME/filesync/server.json).
            """)
    var config: String?
    @Option(help: "Only this client's history.") var id: String?
    @Flag(help: "Show what would be forgotten and reclaimed; change nothing.") var dryRun = false
    @Flag(
        help: """
            Keep the snapshots that the ransomware guard protects. Automatic retention always keeps them; \
            a prune by hand forgets them when the policy does not keep them, unless given this.
            """)
    var keepProtected = false
    /// What a prune by hand does anyway; accepted so that scripts written for it keep working.
    @Flag(help: .hidden) var liftProtection = false
    @OptionGroup(title: "Retention") var retention: RetentionOptions

    func run() throws {
        let root = try AdministrationRoot.resolve(root, config: config, id: id)
        // What the server applies after each session: the counts saved in its config file, under the
        // flags it was started with (both recorded in the root); this command's --config and flags win.
        let served = try RetentionOverrides.load(root: root)
        let saved = try AdministrationRoot.savedSettings(config: config ?? served.config)?.retention.map(
            RetentionPolicy.init(counts:))
        let policy = retention.policy(over: served.applied(over: saved ?? .defaults))
        print("retention: \(policy.summary)")
        let summaries = try HistoryAdministration.prune(
            root: root, id: id, policy: policy, dryRun: dryRun, liftProtection: !keepProtected)
        for summary in summaries {
            let verb = dryRun ? "would forget" : "forgot"
            print(
                "\(summary.clientID): kept \(summary.kept.count), \(verb) \(summary.removed.count), "
                    + "\(dryRun ? "would reclaim" : "reclaimed") \(summary.bytesReclaimed) bytes")
            for id in summary.removed { print("  \(verb) \(id)") }
            if let skipped = summary.sweepSkipped { print("  nothing swept: \(skipped)") }
        }
    }
}

/// `filesync-server check`: every kept snapshot can be restored.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify that every kept snapshot's content is present (and, with --read-data, intact).",
        discussion: "Exit codes: 0 nothing damaged, 1 damage found (listed) or failure, 64 usage.")

    @Option(help: "The server's storage folder (default: the root in the saved config).") var root: String?
    @Option(help: "Config file to read the root from (default: $XDG_CONFIG_HOME/filesync/server.json).")
    var config: String?
    @Option(help: "Only this client's history.") var id: String?
    @Flag(help: "Read every byte and check it against its SHA-256.") var readData = false

    func run() throws {
        let root = try AdministrationRoot.resolve(root, config: config, id: id)
        let (clients, damage) = try HistoryAdministration.check(root: root, id: id, readData: readData)
        for item in damage { print("damaged: \(item)") }
        print("\(clients) client(s) checked\(readData ? " with their data" : ""): \(damage.count) problem(s)")
        if !damage.isEmpty { throw ExitCode.failure }
    }
}

/// The root the administration commands work on.
enum AdministrationRoot {
    static func resolve(_ root: String?, config: String?) throws -> String {
        if let root { return root }
        guard let saved = try savedSettings(config: config), let root = saved.root else {
            throw ValidationError("no --root given and no root saved in \(config ?? SavedSettings.defaultPath)")
        }
        return root
    }

    /// The root, checked to be a server's storage folder holding the history of `id` (if given):
    /// a usage error (64) otherwise, with nothing created.
    static func resolve(_ root: String?, config: String?, id: String?) throws -> String {
        let root = try resolve(root, config: config)
        do {
            try HistoryAdministration.validate(root: root, id: id)
        } catch let error as FileSyncError {
            throw ValidationError(error.message)
        }
        return root
    }

    /// The saved config (`config`, or the default path); `nil` when there is none.
    static func savedSettings(config: String?) throws -> SavedSettings? {
        try SavedSettings.load(from: config ?? SavedSettings.defaultPath)
    }
}
