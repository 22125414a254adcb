import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Locations and facts the end-to-end tests need.
enum Harness {
    /// The folder holding the built `filesync-server` and `filesync-client`: next to the test
    /// bundle, or `FILESYNC_BIN_DIR`.
    static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["FILESYNC_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("filesync-server").path)
        }
            ?? candidates[0]
    }()

    static var server: String { binDirectory.appendingPathComponent("filesync-server").path }
    static var client: String { binDirectory.appendingPathComponent("filesync-client").path }

    /// Network namespaces need root; tests that need them are skipped (and say so) without it.
    static let isRoot = getuid() == 0
    static let hasUnshare = FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    /// Whether `unshare --user --map-root-user` runs here (user namespaces may be off or filtered).
    static let hasUserNamespaces: Bool = {
        guard hasUnshare else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--user", "--map-root-user", "--", "/bin/true"]
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
}

/// A fresh folder under the system temporary folder, removed when the test is done with it.
final class TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init(_ label: String = "e2e") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("filesync-tests")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        url = base.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func subfolder(_ name: String) throws -> String {
        let folder = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.path
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The result of running a command to completion.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The JSON object printed by `--json`.
    func json() throws -> [String: Any] {
        let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestFailure("stdout is not a JSON object: \(stdout)\nstderr: \(stderr)")
        }
        return object
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts a command with stdout and stderr going to files; `wait` collects them.
final class Command {
    let process = Process()
    private let outURL: URL
    private let errURL: URL
    private let exited = DispatchSemaphore(value: 0)

    init(
        _ executable: String, _ arguments: [String], in folder: TemporaryDirectory, environment: [String: String] = [:]
    ) throws {
        let tag = UUID().uuidString.prefix(8)
        outURL = folder.url.appendingPathComponent("cmd-\(tag).out")
        errURL = folder.url.appendingPathComponent("cmd-\(tag).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["XDG_RUNTIME_DIR"] = folder.path
        env["XDG_CONFIG_HOME"] = folder.path + "/config"
        env["XDG_CACHE_HOME"] = folder.path + "/cache"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let handles = [
            try FileHandle(forWritingTo: outURL), try FileHandle(forWritingTo: errURL),
            FileHandle(forReadingAtPath: "/dev/null"),
        ]
        (process.standardOutput, process.standardError, process.standardInput) = (handles[0], handles[1], handles[2])
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        defer {
            // The child has its own copies. Closing ours keeps the test process at a few descriptors
            // however many commands run at once: Foundation's Process.run crashes once they pass
            // about 1,300 (seen with 500 clients at once under a 20,000 open-file limit).
            for handle in handles { try? handle?.close() }
        }
        try process.run()
    }

    /// Waits for the command to end (killing it after `timeout` seconds, which fails the test).
    func wait(timeout: Double = 300) -> CommandResult {
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            Issue.record("command timed out after \(timeout) s: \(process.arguments ?? [])")
        }
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return CommandResult(status: process.terminationStatus, stdout: out, stderr: err)
    }

    static func run(
        _ executable: String, _ arguments: [String], in folder: TemporaryDirectory,
        environment: [String: String] = [:], timeout: Double = 300
    ) throws -> CommandResult {
        try Command(executable, arguments, in: folder, environment: environment).wait(timeout: timeout)
    }
}

/// Runs `filesync-client` to completion.
func runClient(_ arguments: [String], in folder: TemporaryDirectory, timeout: Double = 300) throws -> CommandResult {
    try Command.run(Harness.client, arguments, in: folder, timeout: timeout)
}
