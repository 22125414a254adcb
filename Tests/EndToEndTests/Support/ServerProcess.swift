import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A running `filesync-server` on 127.0.0.1 with an ephemeral port, its log kept in a file.
final class ServerProcess {
    let process = Process()
    let root: String
    let logURL: URL
    private(set) var port = 0
    private let stdout = Pipe()

    /// Starts the server and returns once it printed its `listening on` line.
    /// - Parameters:
    ///   - tls: `false` runs the server with `--no-tls`, for tests that speak the protocol over a raw socket.
    ///   - port: a fixed port (to restart a server where clients pinned it); 0 picks any free port.
    ///   - launcher: a command that runs the server (its executable and arguments, the server's path
    ///     and arguments following), e.g. `prlimit` to start it with other limits; it must `exec` it.
    init(
        root: String, in folder: TemporaryDirectory, name: String = "test-server", tls: Bool = true, port: Int = 0,
        extra: [String] = [], environment extraEnvironment: [String: String] = [:], launcher: [String] = []
    ) throws {
        self.tls = tls
        self.root = root
        logURL = folder.url.appendingPathComponent("server-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: launcher.first ?? Harness.server)
        process.arguments =
            (launcher.isEmpty ? [] : launcher.dropFirst() + [Harness.server])
            + [
                "--root", root, "--port", "\(port)", "--interval", "15m", "--name", name, "--listen", "127.0.0.1",
                "--interface", "127.0.0.1", "--config", folder.path + "/config/filesync/server.json",
            ] + (tls ? [] : ["--no-tls"])
            // The status page's default port would be shared by every test's server: off unless asked.
            + (extra.contains("--http") ? [] : ["--http", "off"]) + extra
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = folder.path + "/config"
        environment.merge(extraEnvironment) { $1 }
        process.environment = environment
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: logURL)
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let reader = LineReader(stdout.fileHandleForReading.fileDescriptor)
        self.reader = reader
        let line = try reader.next(containing: "listening on", timeout: 60)
        if tls {
            let fingerprintLine = try reader.next(containing: "fingerprint", timeout: 10)
            fingerprint = fingerprintLine.split(separator: " ").last.map(String.init)
        }
        let idLine = try reader.next(containing: "server id:", timeout: 10)
        serverID = idLine.split(separator: " ").last.map(String.init) ?? ""
        guard let match = line.firstMatch(of: /listening on [0-9.]+:([0-9]+)/), let port = Int(match.1) else {
            throw TestFailure("cannot find the port in: \(line)")
        }
        self.port = port
        secret = try KeyFile.load(folder.path + "/config/filesync/server.secret")
    }

    /// What the server prints on stdout, read past its first lines.
    private var reader: LineReader?

    /// The next line the server prints on stdout containing `needle`.
    func nextOutputLine(containing needle: String, timeout: Double = 30) throws -> String {
        guard let reader else { throw TestFailure("the server's output is not read") }
        // The line may have come among the first ones, which were read past already.
        if let index = reader.passed.firstIndex(where: { $0.contains(needle) }) {
            return reader.passed.remove(at: index)
        }
        return try reader.next(containing: needle, timeout: timeout)
    }

    /// The shared secret the server generated at its first start (clients find it through
    /// `XDG_CONFIG_HOME`, which every test command points into its temporary folder).
    private(set) var secret: [UInt8] = []

    var endpoint: String { "127.0.0.1:\(port)" }
    let tls: Bool
    /// The id the server printed (its `READY.serverId` and `OFFER.serverId`).
    private(set) var serverID = ""
    /// The SHA-256 fingerprint of the server's TLS certificate, as it printed it.
    private(set) var fingerprint: String?
    /// The client flags that reach this server: `--server HOST:PORT`, and `--no-tls` if it runs without TLS.
    var connect: [String] { ["--server", endpoint] + (tls ? [] : ["--no-tls"]) }

    /// The server's log so far.
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Stops the server (SIGTERM, then SIGKILL) and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Reads from `fd` until a line containing `needle` arrives, waiting up to `timeout` seconds.
    static func readLine(from fd: Int32, containing needle: String, timeout: Double) throws -> String {
        try LineReader(fd).next(containing: needle, timeout: timeout)
    }
}

/// Reads complete lines from a descriptor, waiting with poll(2), keeping what it read ahead.
final class LineReader {
    private let fd: Int32
    private var pending = [UInt8]()
    /// The lines skipped on the way to the ones asked for (the last 100).
    var passed: [String] = []

    init(_ fd: Int32) { self.fd = fd }

    /// The next line containing `needle` (earlier lines are skipped).
    func next(containing needle: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.contains(needle) { return line }
                passed.append(line)
                if passed.count > 100 { passed.removeFirst() }
            }
            guard Date() < deadline else {
                throw TestFailure(
                    "no line containing \"\(needle)\" within \(timeout) s; pending: \(String(decoding: pending, as: UTF8.self))"
                )
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { throw TestFailure("stream closed before a line containing \"\(needle)\"") }
            pending += buffer[0..<count]
        }
    }
}
