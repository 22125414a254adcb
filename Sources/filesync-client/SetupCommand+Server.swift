import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

extension SetupCommand {
    /// The server: `--server` if given, else the one named `--server-name` among those that answer
    /// discovery (`byName`: the profile then names it rather than its address), else one of those
    /// that answer, or any HOST:PORT.
    func chooseServer(_ prompter: SetupPrompter) async throws -> (Endpoint, String?, byName: Bool) {
        var servers: [DiscoveredServer] = []
        if connection.server == nil {
            let discovery = ServerDiscovery(
                group: try Endpoint(parsing: connection.discoveryGroup),
                interface: connection.interface ?? MulticastSetup.defaultInterface(),
                timeout: .seconds(try DurationParser.seconds(from: connection.discoveryWait)),
                logger: Logger(label: "filesync-client"))
            prompter.write("Looking for servers on \(discovery.group) via \(discovery.interface)...\n")
            servers = (try? await discovery.discover(waitFullTime: true)) ?? []
            if servers.isEmpty { prompter.write("  No server answered; type its address (HOST:PORT or HOST).\n") }
            for (index, server) in servers.enumerated() {
                prompter.write("  \(index + 1)) \(server.name)  \(server.endpoint)\n")
            }
            if let name = connection.serverName {
                if let named = servers.first(where: { $0.name == name }) {
                    prompter.write("Using the server \"\(name)\" at \(named.endpoint) (--server-name).\n")
                    return (named.endpoint, named.fingerprint, true)
                }
                prompter.write("  No server named \"\(name)\" answered; choose another.\n")
            }
        }
        let fallback = connection.server ?? (servers.isEmpty ? "" : "1")
        let prompt = servers.isEmpty ? "Server (HOST:PORT)" : "Server: a number from the list, or HOST:PORT"
        return try prompter.ask(prompt, default: fallback) { answer in
            if let number = Int(answer), servers.indices.contains(number - 1) {
                return (servers[number - 1].endpoint, servers[number - 1].fingerprint, false)
            }
            guard !answer.isEmpty else { throw FileSyncError(.invalidSetting, "a server is needed") }
            return (try Endpoint(parsing: answer, defaultPort: Endpoint.defaultPort), nil, false)
        }
    }

    /// Asks the secret until the server accepts it, connecting once per answer: that proves it both
    /// ways and pins the server's TLS fingerprint. A wrong secret is explained and asked again; an
    /// id the server has bound to another client's key is explained and another id asked for;
    /// nothing is saved meanwhile.
    func proveSecret(_ prompter: SetupPrompter, _ answers: inout Answers) async throws {
        // --secret-file answers the first time; a wrong one is asked for again like any answer.
        var given = connection.secretFile
        var secretNeeded = true
        while true {
            if secretNeeded {
                guard try askSecret(prompter, &answers, given: &given) else { continue }
                secretNeeded = false
            }
            var options = try connection.options(clientID: answers.id, source: "", secret: answers.secret)
            options.server = answers.server
            prompter.write("Connecting to \(answers.server)...\n")
            do {
                let probe = try await ServerProbe(options: options, logger: Logger(label: "filesync-client"))
                    .run(server: answers.server, fingerprint: answers.fingerprint)
                (answers.serverName, answers.intervalSeconds) = (probe.serverName, probe.intervalSeconds)
                prompter.write(
                    "Connected to \"\(probe.serverName)\" at \(answers.server): the secret works"
                        + (connection.noTls ? ".\n" : "; the server's TLS fingerprint is pinned.\n"))
                return
            } catch BackupFailure.authentication(let detail) {
                prompter.write(
                    "  The secret does not match the server's (\(detail)). Copy it again from the server "
                        + "(its file server.secret beside server.json) and try again.\n")
                secretNeeded = true
            } catch BackupFailure.clientKeyMismatch(let detail) {
                // The secret worked; the id belongs to another client (or to this one's lost key).
                prompter.write(
                    "  The id \"\(answers.id)\" is already taken on the server by another client's key (\(detail)). "
                        + "Choose another id (or, if it was this computer's and its key was lost, ask the server's "
                        + "administrator to release it).\n")
                let taken = answers.id
                let suggestion = (try? ClientID(validating: taken.string + "-2"))?.string ?? ""
                answers.id = try prompter.ask("This client's id (its folder on the server)", default: suggestion) {
                    let id = try ClientID(validating: $0)
                    guard id != taken else { throw FileSyncError(.invalidSetting, "that id is taken") }
                    return id
                }
            }
        }
    }

    /// Asks the secret (or takes `given`, once) and reads it into `answers`; false when the answer
    /// is no secret (explained: asked again).
    private func askSecret(_ prompter: SetupPrompter, _ answers: inout Answers, given: inout String?) throws -> Bool {
        let answer: String
        if let file = given {
            (answer, given) = (file, nil)
            prompter.write("The server's secret: from \(file)\n")
        } else {
            // The file a backup would read without --secret-file is the default, as for every prompt.
            let fallback = ConnectionOptions.defaultSecretFile()
            let typed = try prompter.askHidden(
                "The server's secret: paste its 64 hex digits (not shown), or the path of a file holding it"
                    + (fallback.map { " [\($0)]: " } ?? ": "))
            answer = typed.isEmpty ? fallback ?? "" : typed
        }
        do {
            (answers.secret, answers.secretFile) = try Self.secret(from: answer)
            return true
        } catch let error as FileSyncError {
            prompter.write("  \(error.message). Please try again.\n")
            return false
        }
    }

    /// The secret in an answer: 64 hex digits, or the path of a key file.
    static func secret(from answer: String) throws -> ([UInt8], String?) {
        if answer.utf8.count == 64, let bytes = [UInt8](hex: answer) { return (bytes, nil) }
        let path = Self.expandingHome(answer)
        guard !answer.isEmpty, FileManager.default.fileExists(atPath: path) else {
            throw FileSyncError(.invalidSetting, "that is neither 64 hex digits nor the path of a file")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return (try KeyFile.load(absolute, kind: "the secret file"), absolute)
    }

    /// The folders to back up: one, then more until an empty answer.
    func askFolders(_ prompter: SetupPrompter) throws -> [String] {
        var folders: [String] = []
        let home = Self.home
        while true {
            let prompt = folders.isEmpty ? "Folder to back up" : "Another folder (Enter: no more)"
            let folder: String? = try prompter.ask(prompt, default: folders.isEmpty ? home : "") { answer in
                if answer.isEmpty { return nil }
                let path = URL(fileURLWithPath: Self.expandingHome(answer)).standardizedFileURL.path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue
                else { throw FileSyncError(.invalidSetting, "\(path) is not a folder") }
                // Several folders are stored under their names: two of one name cannot be.
                if !folders.isEmpty { _ = try SourceSet(paths: folders + [path]) }
                return path
            }
            guard let folder else { return folders }
            folders.append(folder)
        }
    }

    /// The user's home folder: `$HOME` as the shell has it, else the account's.
    static var home: String {
        ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
    }

    /// `path` with a leading `~` (alone or before `/`) replaced by ``home``, as a shell does.
    static func expandingHome(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return home + path.dropFirst()
    }
}
