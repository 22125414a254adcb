import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Stopping the client") struct StopSignalTests {
        /// The megabytes in `text` matched by `pattern`'s first capture (`95.0 MB`, `1.2 GB`).
        static func megabytes(_ text: String, _ pattern: Regex<(Substring, Substring, Substring)>) -> Double? {
            guard let match = text.firstMatch(of: pattern), let value = Double(match.1) else { return nil }
            let scale = ["B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3][String(match.2)] ?? .nan
            return value * scale
        }

        @Test(
            "SIGTERM and SIGINT stop a backup with 143 and 130 and say what the server keeps; the next run says what it resumed",
            arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
        func stoppedBySignal(signal: Int32, code: Int32) throws {
            let work = try TemporaryDirectory("stop-\(signal)")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.writeLarge(64 << 20, to: source + "/big.bin", seed: 7)
            let server = try ServerProcess(root: root, in: work)
            let arguments = ["--source", source, "--id", "stop"] + server.connect
            let command = try Command(Harness.client, arguments + ["--bwlimit", "8M"], in: work)
            // Wait (bounded) until the server holds part of the file, then stop the client.
            let partials = root + "/.filesync/stop/partial"
            var received: Int64 = 0
            for _ in 0..<3000 where received < 8 << 20 {
                received = diskUsage(of: partials)
                usleep(10_000)
            }
            #expect(received >= 8 << 20, "the backup never got going")
            kill(command.process.processIdentifier, signal)
            let stopped = command.wait(timeout: 30)
            #expect(stopped.status == code, "\(stopped.stderr)")
            let said = stopped.stderr.split(separator: "\n").first { $0.contains("stopped:") }.map(String.init) ?? ""
            #expect(said.hasSuffix(" of big.bin kept on the server, resumed next run"), "\(stopped.stderr)")
            let kept = try #require(Self.megabytes(said, /stopped: about ([0-9.]+) (B|KB|MB|GB) of/), "\(said)")

            let next = try runClient(arguments, in: work)
            #expect(next.status == 0, "\(next.stderr)")
            let resumed = try #require(
                Self.megabytes(next.stdout, /; ([0-9.]+) (B|KB|MB|GB) resumed/), "\(next.stdout)")
            print("stopped by signal \(signal): said about \(kept) MB kept; the next run resumed \(resumed) MB")
            // What the server kept is what had reached it: all but the frame in flight and what
            // still waited in the client's own buffers.
            #expect(resumed <= kept + 0.1 && resumed >= kept - 3, "said \(kept) MB kept, \(resumed) MB resumed")
            #expect(try TreeSnapshot(of: root + "/stop") == TreeSnapshot(of: source))
        }
    }
}
