import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

extension EndToEnd {
    @Suite("Client setup") struct ClientSetupTests {
        @Test(
            "on a terminal setup asks server, id, secret (hidden; a wrong one asked again, nothing saved), folders and schedule, saves a profile that backs up, and writes units on yes"
        )
        func interactiveSetup() throws {
            let work = try TemporaryDirectory("client-setup")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work)
            defer { server.stop() }
            let photos = try work.subfolder("home/photos")
            let docs = try work.subfolder("home/docs")
            try SampleTree.write(Array("cat".utf8), to: photos + "/cat.jpg")
            try SampleTree.write(Array("memo".utf8), to: docs + "/memo.txt")
            // The client's own configuration, apart from the server's (where its secret lies).
            let config = work.path + "/client-config"
            let environment = [
                "XDG_CONFIG_HOME": config, "XDG_CACHE_HOME": work.path + "/cache", "XDG_RUNTIME_DIR": work.path,
            ]
            let terminal = try PseudoTerminal()
            let process = try terminal.start(
                Harness.client, ["setup", "--server", server.endpoint, "--profile", "nas"], environment: environment)
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }

            try terminal.expect("Server (HOST:PORT) [\(server.endpoint)]: ")
            try terminal.send("")
            try terminal.expect("This client's id (its folder on the server) [")
            try terminal.send("lab")
            try terminal.expect("The server's secret: paste its 64 hex digits (not shown)")
            try terminal.send(String(repeating: "0", count: 64))
            try terminal.expect("The secret does not match the server's")
            try terminal.expect("The server's secret: paste")
            #expect(!FileManager.default.fileExists(atPath: config + "/filesync/client.json"))
            #expect(!FileManager.default.fileExists(atPath: config + "/filesync/known_servers"))
            #expect(!FileManager.default.fileExists(atPath: config + "/filesync/secret"))
            let secret = server.secret.hexString
            try terminal.send(secret)
            let echoed = try terminal.expect("Connected to \"test-server\"")
            #expect(!echoed.contains(secret), "the secret was echoed: \(echoed)")
            try terminal.expect("Folder to back up [")
            try terminal.send(photos)
            try terminal.expect("Another folder (Enter: no more) []: ")
            try terminal.send(work.path + "/nowhere")
            try terminal.expect("is not a folder")
            try terminal.send(docs)
            try terminal.expect("Another folder (Enter: no more) []: ")
            try terminal.send("")
            // The default schedule is the server's interval (the test server's is 15m).
            try terminal.expect("Back up every (e.g. 15m, 1h, 1d) [15m]: ")
            try terminal.send("")
            try terminal.expect("Saved the profile \"nas\"")
            let client = URL(fileURLWithPath: Harness.client).resolvingSymlinksInPath().path
            try terminal.expect("*/15 * * * * \(client) -q --profile nas")
            try terminal.expect("Or write systemd user timer units in \(config)/systemd/user instead? [n]: ")
            try terminal.send("y")
            try terminal.expect(
                "systemctl --user daemon-reload && systemctl --user enable --now filesync-backup-nas.timer")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)

            let profile = try Self.savedProfile("nas", in: config)
            #expect(profile?["source"] as? [String] == [photos, docs])
            #expect(profile?["id"] as? String == "lab")
            #expect(profile?["schedule"] as? String == "15m")
            #expect(profile?["server"] as? String == server.endpoint)
            let secretFile = profile?["secretFile"] as? String ?? ""
            #expect(try KeyFile.load(secretFile) == server.secret)
            #expect(try FileManager.default.attributesOfItem(atPath: secretFile)[.posixPermissions] as? Int == 0o600)
            let timer = try String(contentsOfFile: config + "/systemd/user/filesync-backup-nas.timer", encoding: .utf8)
            #expect(timer.contains("OnCalendar=*:0/15"), "\(timer)")
            let service = try String(
                contentsOfFile: config + "/systemd/user/filesync-backup-nas.service", encoding: .utf8)
            #expect(service.contains("ExecStart=\(client) -q --profile nas"), "\(service)")

            // The profile backs up as it says, to the pinned server.
            let backup = try Command.run(
                Harness.client, ["--profile", "nas", "--json"], in: work, environment: environment)
            #expect(backup.status == 0, "\(backup.stderr)")
            #expect(FileManager.default.fileExists(atPath: server.root + "/lab/photos/cat.jpg"))
            #expect(FileManager.default.fileExists(atPath: server.root + "/lab/docs/memo.txt"))
        }

        @Test(
            "setup lists the servers that answer discovery and takes the first by default (private network namespace)",
            .enabled(if: Harness.isRoot && Harness.hasUnshare, "needs root for a private network namespace; skipped"))
        func discoveredServer() throws {
            let work = try TemporaryDirectory("client-setup-discovery")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("x".utf8), to: source + "/x.txt")
            let config = work.path + "/client-config"
            try KeyFile.write(KeyFile.generate(), to: work.path + "/wrong.secret")
            // Server and client in one namespace with only loopback: no datagram can leave it.
            let script = """
                set -u
                ip link set lo up
                mkfifo "$WORK/server.out"
                "$SERVER" --root "$WORK/root" --port 0 --interval 2h --name lab --listen 127.0.0.1 \\
                    --interface 127.0.0.1 --config "$WORK/config/filesync/server.json" --http off \\
                    > "$WORK/server.out" 2> "$WORK/server.log" < /dev/null &
                server=$!
                exec 3< "$WORK/server.out"
                read -t 30 -u 3 line || { echo "server did not start"; kill $server; exit 90; }
                XDG_CONFIG_HOME="$WORK/client-config" "$CLIENT" setup --interface 127.0.0.1 --discovery-timeout 2s \\
                    --secret-file "$WORK/wrong.secret"
                status=$?
                kill $server
                wait $server
                exit $status
                """
            let terminal = try PseudoTerminal()
            let process = try Self.startInPrivateNetwork(script, work: work, on: terminal)
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }
            try terminal.expect("Looking for servers on 239.255.77.33:7733 via 127.0.0.1...")
            try terminal.expect("  1) lab  127.0.0.1:")
            try terminal.expect("Server: a number from the list, or HOST:PORT [1]: ")
            try terminal.send("")
            try terminal.expect("This client's id (its folder on the server) [")
            try terminal.send("lab-client")
            // --secret-file answers first; a wrong one is asked for again.
            try terminal.expect("The server's secret: from \(work.path)/wrong.secret")
            try terminal.expect("The secret does not match the server's")
            try terminal.expect("The server's secret: paste")
            // The path of a copy, this time.
            try terminal.send(work.path + "/config/filesync/server.secret")
            try terminal.expect("Connected to \"lab\"")
            try Self.answerOneFolder(source, schedule: "2h", crontab: "0 */2 * * * ", on: terminal)
            try terminal.expect("No unit written.")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let profile = try Self.savedProfile("default", in: config)
            #expect((profile?["server"] as? String)?.hasPrefix("127.0.0.1:") == true, "\(profile ?? [:])")
            #expect(profile?["source"] as? String == source)
            #expect(profile?["secretFile"] as? String == work.path + "/config/filesync/server.secret")
            let pinned = try String(contentsOfFile: config + "/filesync/known_servers", encoding: .utf8)
            #expect(pinned.contains("127.0.0.1:"), "\(pinned)")
            #expect(!FileManager.default.fileExists(atPath: config + "/systemd"))
        }

        @Test(
            "--server-name picks that server among those that answer discovery; the profile names it, and a backup finds it by name (private network namespace)",
            .enabled(if: Harness.isRoot && Harness.hasUnshare, "needs root for a private network namespace; skipped"))
        func serverByName() throws {
            let work = try TemporaryDirectory("client-setup-name")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("x".utf8), to: source + "/x.txt")
            let config = work.path + "/client-config"
            // Two servers in one namespace with only loopback: no datagram can leave it.
            let script = """
                set -u
                ip link set lo up
                pids=""
                for name in lab attic; do
                    mkfifo "$WORK/$name.out"
                    "$SERVER" --root "$WORK/$name" --port 0 --interval 2h --name $name --listen 127.0.0.1 \\
                        --interface 127.0.0.1 --config "$WORK/$name-config/server.json" --http off \\
                        > "$WORK/$name.out" 2> "$WORK/$name.log" < /dev/null &
                    pids="$pids $!"
                    exec {fd}< "$WORK/$name.out"
                    read -t 30 -u $fd line || { echo "server $name did not start"; kill $pids; exit 90; }
                done
                export XDG_CONFIG_HOME="$WORK/client-config"
                "$CLIENT" setup --interface 127.0.0.1 --discovery-timeout 2s --server-name attic \\
                    --secret-file "$WORK/attic-config/server.secret"
                status=$?
                "$CLIENT" --profile default
                echo "backup exit status $?"
                kill $pids
                wait
                exit $status
                """
            let terminal = try PseudoTerminal()
            let process = try Self.startInPrivateNetwork(script, work: work, on: terminal)
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }
            try terminal.expect("Looking for servers on 239.255.77.33:7733 via 127.0.0.1...")
            try terminal.expect("Using the server \"attic\" at 127.0.0.1:")
            try terminal.expect("This client's id (its folder on the server) [")
            try terminal.send("named")
            try terminal.expect("Connected to \"attic\"")
            try Self.answerOneFolder(source, schedule: "2h", on: terminal)
            try terminal.expect("backup exit status 0")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let profile = try Self.savedProfile("default", in: config)
            #expect(profile?["serverName"] as? String == "attic", "\(profile ?? [:])")
            #expect(profile?["interface"] as? String == "127.0.0.1", "\(profile ?? [:])")
            #expect(profile?["server"] == nil, "\(profile ?? [:])")
            #expect(FileManager.default.fileExists(atPath: work.path + "/attic/named/x.txt"))
            #expect(!FileManager.default.fileExists(atPath: work.path + "/lab/named"))
        }

        @Test("an id the server has bound to another client's key is explained and another id asked for")
        func idTaken() throws {
            let work = try TemporaryDirectory("client-setup-taken")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work)
            defer { server.stop() }
            let source = try work.subfolder("source")
            try SampleTree.write(Array("x".utf8), to: source + "/x.txt")
            // Another client (its own key, in the tests' usual configuration) takes the id first.
            let first = try runClient(["--source", source, "--id", "taken"] + server.connect, in: work)
            try #require(first.status == 0, "\(first.stderr)")
            let config = work.path + "/client-config"
            let terminal = try PseudoTerminal()
            let process = try terminal.start(
                Harness.client,
                [
                    "setup", "--server", server.endpoint, "--secret-file",
                    work.path + "/config/filesync/server.secret",
                ],
                environment: [
                    "XDG_CONFIG_HOME": config, "XDG_CACHE_HOME": work.path + "/cache", "XDG_RUNTIME_DIR": work.path,
                ])
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }
            try terminal.expect("Server (HOST:PORT) [\(server.endpoint)]: ")
            try terminal.send("")
            try terminal.expect("This client's id (its folder on the server) [")
            try terminal.send("taken")
            try terminal.expect("The id \"taken\" is already taken on the server by another client's key")
            try terminal.expect("This client's id (its folder on the server) [taken-2]: ")
            try terminal.send("taken")
            try terminal.expect("that id is taken. Please try again.")
            try terminal.send("")
            try terminal.expect("Connected to \"test-server\"")
            try Self.answerOneFolder(source, schedule: "15m", on: terminal)
            try terminal.expect("No unit written.")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let profile = try Self.savedProfile("default", in: config)
            #expect(profile?["id"] as? String == "taken-2", "\(profile ?? [:])")
        }

        @Test(
            "a secret already in the client's default place is the secret prompt's default; the folder's is $HOME, and ~ is $HOME"
        )
        func secretDefault() throws {
            let work = try TemporaryDirectory("client-setup-secret-default")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work)
            defer { server.stop() }
            let home = try work.subfolder("home")
            let source = try work.subfolder("home/docs")
            try SampleTree.write(Array("x".utf8), to: source + "/x.txt")
            let config = work.path + "/client-config"
            let copy = config + "/filesync/secret"
            try FileManager.default.createDirectory(atPath: config + "/filesync", withIntermediateDirectories: true)
            try KeyFile.write(server.secret, to: copy)
            let terminal = try PseudoTerminal()
            let process = try terminal.start(
                Harness.client, ["setup", "--server", server.endpoint],
                environment: [
                    "XDG_CONFIG_HOME": config, "XDG_CACHE_HOME": work.path + "/cache", "XDG_RUNTIME_DIR": work.path,
                    "HOME": home,
                ])
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }
            try terminal.expect("Server (HOST:PORT) [\(server.endpoint)]: ")
            try terminal.send("")
            try terminal.expect("This client's id (its folder on the server) [")
            try terminal.send("defaults")
            try terminal.expect("or the path of a file holding it [\(copy)]: ")
            try terminal.send("")
            try terminal.expect("Connected to \"test-server\"")
            try terminal.expect("Folder to back up [\(home)]: ")
            try terminal.send("~/docs")
            try terminal.expect("Another folder (Enter: no more) []: ")
            try terminal.send("")
            try terminal.expect("Back up every (e.g. 15m, 1h, 1d) [15m]: ")
            try terminal.send("")
            try terminal.expect("instead? [n]: ")
            try terminal.send("")
            try terminal.expect("No unit written.")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let profile = try Self.savedProfile("default", in: config)
            #expect(profile?["secretFile"] as? String == copy, "\(profile ?? [:])")
            #expect(profile?["source"] as? String == source, "\(profile ?? [:])")
        }

        /// Starts `script` (bash, with `WORK`, `SERVER` and `CLIENT` set) on `terminal` in a private
        /// network namespace of its own (`unshare -n`): no datagram it sends can leave it.
        private static func startInPrivateNetwork(
            _ script: String, work: TemporaryDirectory, on terminal: PseudoTerminal
        ) throws -> Process {
            try terminal.start(
                "/usr/bin/unshare", ["-n", "/bin/bash", "-c", script],
                environment: [
                    "WORK": work.path, "SERVER": Harness.server, "CLIENT": Harness.client,
                    "XDG_CACHE_HOME": work.path + "/cache", "XDG_RUNTIME_DIR": work.path,
                ])
        }

        /// Answers setup's last questions: `source` as the only folder, the schedule's default
        /// `schedule` (then the crontab line starting `crontab`, if given), and no systemd units.
        private static func answerOneFolder(
            _ source: String, schedule: String, crontab: String? = nil, on terminal: PseudoTerminal
        ) throws {
            try terminal.expect("Folder to back up [")
            try terminal.send(source)
            try terminal.expect("Another folder (Enter: no more) []: ")
            try terminal.send("")
            try terminal.expect("Back up every (e.g. 15m, 1h, 1d) [\(schedule)]: ")
            try terminal.send("")
            if let crontab { try terminal.expect(crontab) }
            try terminal.expect("instead? [n]: ")
            try terminal.send("")
        }

        /// The profile `name` that setup saved in `config`'s `filesync/client.json`.
        private static func savedProfile(_ name: String, in config: String) throws -> [String: Any]? {
            let saved =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: config + "/filesync/client.json"))) as? [String: Any]
            return (saved?["profiles"] as? [String: Any])?[name] as? [String: Any]
        }

        @Test("without a terminal setup exits 64 at once, naming the flags to use instead")
        func noTerminal() throws {
            let work = try TemporaryDirectory("client-setup-noterm")
            let result = try runClient(["setup"], in: work, timeout: 30)
            #expect(result.status == 64, "\(result.stderr)")
            for flag in ["--server", "--secret-file", "--source", "--id"] {
                #expect(result.stderr.contains(flag), "\(result.stderr)")
            }
        }
    }
}
