import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A `filesync-client --watch` (or any long-running client) started by a test, its stdout and
/// stderr kept in files; stopped with SIGTERM when the test is done.
final class WatchingClient {
    let process = Process()
    private let outURL: URL
    private let errURL: URL

    /// - Parameter launcher: a command that runs the client (e.g. `unshare` and a shell), its last
    ///   argument followed by the client's path and arguments.
    /// - Parameter extraEnvironment: variables set for the client besides the usual ones.
    init(
        _ arguments: [String], in folder: TemporaryDirectory, launcher: [String] = [],
        extraEnvironment: [String: String] = [:]
    ) throws {
        outURL = folder.url.appendingPathComponent("watch-\(UUID().uuidString.prefix(6)).out")
        errURL = folder.url.appendingPathComponent("watch-\(UUID().uuidString.prefix(6)).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: launcher.first ?? Harness.client)
        process.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + [Harness.client]) + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_RUNTIME_DIR"] = folder.path
        environment["XDG_CONFIG_HOME"] = folder.path + "/config"
        environment["XDG_CACHE_HOME"] = folder.path + "/cache"
        environment.merge(extraEnvironment) { $1 }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

    /// The summary lines printed so far: one per finished run.
    var runs: [String] { stdout.split(separator: "\n").map(String.init).filter { $0.contains(" scanned, ") } }

    /// Waits (polling every 50 ms, at most `timeout` seconds) until `condition` holds; false if it never did.
    @discardableResult
    static func await(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// Stops the client (SIGTERM, then SIGKILL after 10 s) and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { stop() }
}
