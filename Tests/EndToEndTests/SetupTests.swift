import CTestSupport
import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Server setup") struct SetupTests {
        @Test("on a terminal the server asks each setting with a default, re-asks bad answers, saves, and reuses them")
        func interactiveSetupThroughPseudoTerminal() throws {
            let work = try TemporaryDirectory("setup")
            let config = work.path + "/conf/server.json"
            let root = work.path + "/store"
            let terminal = try PseudoTerminal()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Harness.server)
            process.arguments = [
                "--config", config, "--listen", "127.0.0.1", "--interface", "127.0.0.1", "--no-discovery",
            ]
            process.standardInput = terminal.child
            process.standardOutput = terminal.child
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }

            try terminal.expect("Storage folder [")
            try terminal.send(root)
            try terminal.expect("TCP port [7733]: ")
            try terminal.send("not-a-port")
            try terminal.expect("is not a port number")
            try terminal.expect("TCP port [7733]: ")
            try terminal.send("0")
            try terminal.expect("Sync interval (e.g. 90s, 15m, 1h, 1d) [1h]: ")
            try terminal.send("5 minutes")
            try terminal.expect("is not a duration")
            try terminal.send("15m")
            try terminal.expect("Server name [")
            try terminal.send("")
            try terminal.expect("Listen address (0.0.0.0: every interface) [127.0.0.1]: ")
            try terminal.send("")
            try terminal.expect("Discovery interface (its IPv4 address or name, or off) [127.0.0.1]: ")
            try terminal.send("10.0.0.300")
            try terminal.expect("is not an IPv4 address, an interface name (e.g. eth0) nor off")
            try terminal.send("")
            try terminal.expect("Snapshots to keep: last, hourly, daily, weekly, monthly, yearly [10 48 14 8 24 5]: ")
            try terminal.send("3 0 7")
            try terminal.expect("is not six counts")
            try terminal.send("3 0 7 4 12 2")
            try terminal.expect("Settings saved to \(config)")
            try terminal.expect("It is shown only now:")
            try terminal.expect("Put it in a file on each client")
            try terminal.expect("listening on 127.0.0.1:")
            // --no-discovery was given: the listening line says so.
            try terminal.expect("discovery off")
            process.terminate()

            let saved =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: Any]
            #expect(saved?["root"] as? String == root)
            #expect(saved?["port"] as? Int == 0)
            #expect(saved?["interval"] as? String == "15m")
            #expect(saved?["retention"] as? String == "3 0 7 4 12 2")
            #expect(saved?["listen"] as? String == "127.0.0.1")
            #expect(saved?["interface"] as? String == "127.0.0.1")
            // Written for people to edit: pretty-printed, sorted keys, slashes not escaped.
            let text = try String(contentsOfFile: config, encoding: .utf8)
            #expect(!text.contains("\\/") && text.contains("\"root\" : \"\(root)\""), "\(text)")
            #expect((saved?["name"] as? String)?.isEmpty == false)
            #expect(FileManager.default.fileExists(atPath: root))
            let mode = try FileManager.default.attributesOfItem(atPath: config)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let secretPath = work.path + "/conf/server.secret"
            #expect(try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int == 0o600)
            #expect(try KeyFile.load(secretPath).count == 32)

            // The next start, with no terminal at all, reuses the saved settings without asking.
            let again = try ServerStart.untilListening(
                ["--config", config, "--listen", "127.0.0.1", "--no-discovery"], in: work)
            #expect(again.contains("listening on 127.0.0.1:"), "\(again)")
            #expect(again.contains("clients back up every 15m"), "\(again)")
        }

        @Test("without a terminal and without settings the server fails at once, naming the missing flags")
        func nonTerminalFailsFast() throws {
            let work = try TemporaryDirectory("noterm")
            let started = Date()
            let result = try Command.run(
                Harness.server, ["--config", work.path + "/none.json", "--port", "7000"], in: work, timeout: 30)
            #expect(result.status == 64)
            for flag in ["--root", "--interval", "--name"] { #expect(result.stderr.contains(flag), "\(result.stderr)") }
            #expect(!result.stderr.contains("--port,"), "--port was given: \(result.stderr)")
            #expect(Date().timeIntervalSince(started) < 20)
        }

        @Test("a server configured by flags only keeps its id across restarts, in server.id beside its TLS key")
        func serverIDIsStableWithoutConfigFile() throws {
            let work = try TemporaryDirectory("serverid")
            let root = work.path + "/store"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let first = try ServerProcess(root: root, in: work)
            let firstID = first.serverID
            first.stop()
            let second = try ServerProcess(root: root, in: work)
            defer { second.stop() }
            let state = work.path + "/config/filesync"
            #expect(!FileManager.default.fileExists(atPath: state + "/server.json"), "flags only: no config file")
            #expect(UUID(uuidString: firstID) != nil, "printed id: \(firstID)")
            #expect(second.serverID == firstID)
            let kept = try String(contentsOfFile: state + "/server.id", encoding: .utf8)
            #expect(kept == firstID + "\n")
            #expect(FileManager.default.fileExists(atPath: state + "/server-tls.key"))
        }

        @Test("a server.id that does not hold a UUID is a clear setting error, not a new id")
        func damagedServerIDIsRefused() throws {
            let work = try TemporaryDirectory("badid")
            let state = work.path + "/conf"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            try Data("not an id\n".utf8).write(to: URL(fileURLWithPath: state + "/server.id"))
            let result = try Command.run(
                Harness.server,
                [
                    "--config", state + "/server.json", "--root", work.path, "--port", "0", "--interval", "1h",
                    "--name", "x", "--listen", "127.0.0.1", "--interface", "127.0.0.1", "--no-discovery",
                ], in: work, timeout: 30)
            #expect(result.status == 64)
            #expect(result.stderr.contains("server.id"), "\(result.stderr)")
            let kept = try String(contentsOfFile: state + "/server.id", encoding: .utf8)
            #expect(kept == "not an id\n")
        }
    }
}

/// Starts the server without a terminal and returns its first stdout line.
enum ServerStart {
    static func untilListening(_ arguments: [String], in work: TemporaryDirectory) throws -> String {
        let process = Process()
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: Harness.server)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        return try ServerProcess.readLine(
            from: out.fileHandleForReading.fileDescriptor, containing: "listening", timeout: 30)
    }
}

/// A pseudo-terminal pair: the child end is the program's terminal, the test drives the parent end.
final class PseudoTerminal {
    let parent: Int32
    let child: FileHandle
    private var seen = ""

    init() throws {
        var name = [CChar](repeating: 0, count: 256)
        parent = test_open_pty(&name, name.count)
        guard parent >= 0 else { throw TestFailure("cannot open a pseudo-terminal") }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let childFD = open(path, O_RDWR | O_NOCTTY)
        guard childFD >= 0 else { throw TestFailure("cannot open \(path)") }
        child = FileHandle(fileDescriptor: childFD, closeOnDealloc: true)
    }

    deinit { close(parent) }

    /// Starts `executable` with this terminal as its standard input, output and error, in the
    /// test's environment with `environment` added.
    func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = child
        process.standardOutput = child
        process.standardError = child
        try process.run()
        return process
    }

    /// Waits (poll(2), bounded) until `text` appears in the output after what was already matched;
    /// returns the output before it.
    @discardableResult
    func expect(_ text: String, timeout: Double = 30) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let range = seen.range(of: text) {
                let before = String(seen[..<range.lowerBound])
                seen = String(seen[range.upperBound...])
                return before
            }
            guard Date() < deadline else { throw TestFailure("did not see \"\(text)\"; got: \(seen)") }
            var descriptor = pollfd(fd: parent, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(parent, &buffer, buffer.count)
            guard count > 0 else { throw TestFailure("terminal closed; got: \(seen)") }
            seen += String(decoding: buffer[0..<count], as: UTF8.self).replacingOccurrences(of: "\r", with: "")
        }
    }

    func send(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        guard write(parent, bytes, bytes.count) == bytes.count else {
            throw TestFailure("cannot write to the terminal")
        }
    }
}
