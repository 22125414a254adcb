import Foundation
import Testing

extension EndToEnd {
    /// The power-cut harness (scripts/powercut): the server's storage on a FUSE file system that
    /// keeps unsynced writes in memory and loses them at a cut. A short run of the soak that
    /// `make powercut` runs with 200 cuts: in the model of ext4 (any sync commits the journal's
    /// metadata, never another file's data) and in the strict one (only what was synced), which
    /// found names of new folders that only ext4's journal made durable.
    @Suite("Power cuts", .enabled(if: PowerCut.available, PowerCut.unavailableReason))
    struct PowerCutTests {
        @Test(
            "power cut in the ext4 model and the strict (POSIX) one: nothing acknowledged is lost, no file is a mix, the next backup completes",
            arguments: ["ext4", "strict"])
        func shortSoak(model: String) throws {
            let work = try TemporaryDirectory("powercut")
            let result = try Command.run(
                "/usr/bin/env",
                [
                    "python3", PowerCut.script, "--bin-dir", Harness.binDirectory.path, "--cuts", "6", "--seed",
                    "20261206", "--big-size", "\(3 << 20)", "--model", model,
                ], in: work, timeout: 600)
            print(result.stdout)
            #expect(result.status == 0, "\(result.stderr)")
            let summaryLine = try #require(result.stdout.split(separator: "\n").last { $0.hasPrefix("summary ") })
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(summaryLine.dropFirst("summary ".count).utf8))
                    as? [String: Any])
            #expect(summary["cuts"] as? Int == 6)
            #expect(summary["violations"] as? Int == 0)
            // Some of the cuts fall inside a round, not all after it: the cut points are spread
            // over the requests a round makes.
            let phases = summary["phases"] as? [String: Int] ?? [:]
            #expect(phases.filter { $0.key != "after the round" }.values.reduce(0, +) > 0)
        }
    }
}

/// What the power-cut harness needs: root (to mount), /dev/fuse, fusermount3, gcc and pyfuse3.
enum PowerCut {
    static let script: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent("scripts/powercut/soak.py").path
    }()

    static let missing: String? = {
        guard Harness.isRoot else { return "root (to mount a FUSE file system)" }
        guard FileManager.default.fileExists(atPath: "/dev/fuse") else { return "/dev/fuse" }
        for tool in ["/usr/bin/fusermount3", "/usr/bin/gcc"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return tool
        }
        guard succeeds(["python3", "-c", "import pyfuse3, trio"]) else {
            return "the Python module pyfuse3 (pip install pyfuse3)"
        }
        // Root and /dev/fuse are not enough in a container without the right to mount (exit 3);
        // any other failure of the probe is the harness's and fails the test instead.
        guard status(["python3", script, "--bin-dir", Harness.binDirectory.path, "--probe"]) != 3 else {
            return "the right to mount a FUSE file system"
        }
        return nil
    }()

    private static func succeeds(_ arguments: [String]) -> Bool { status(arguments) == 0 }

    private static func status(_ arguments: [String]) -> Int32 {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = arguments
        probe.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard (try? probe.run()) != nil else { return -1 }
        probe.waitUntilExit()
        return probe.terminationStatus
    }

    static var available: Bool { missing == nil }
    static var unavailableReason: Comment { "needs \(missing ?? "nothing"); skipped" }
}
