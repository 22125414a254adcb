import Foundation
import Testing

extension EndToEnd {
    @Suite("Progress") struct ProgressTests {
        /// Runs its arguments under a pseudo-terminal (Python's pty module); prints what the terminal
        /// received and exits with the command's status.
        static let underPty = """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            out = b''
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                out += data
            _, status = os.waitpid(pid, 0)
            sys.stdout.buffer.write(out)
            sys.exit(os.waitstatus_to_exitcode(status))
            """

        /// A source whose backup takes about two seconds with `--bwlimit 2M`, and a server.
        static func setUp(_ label: String) throws -> (TemporaryDirectory, String, ServerProcess) {
            let work = try TemporaryDirectory(label)
            let source = try work.subfolder("source")
            try SampleTree.writeLarge(4 << 20, to: source + "/big.bin", seed: 5)
            try SampleTree.write(Array("small".utf8), to: source + "/small.txt")
            let server = try ServerProcess(root: try work.subfolder("root"), in: work)
            return (work, source, server)
        }

        @Test("on a terminal a progress line is drawn on stderr and cleared before the summary")
        func underATerminal() throws {
            let (work, source, server) = try Self.setUp("progress-tty")
            let result = try Command.run(
                "/usr/bin/python3",
                ["-c", Self.underPty, Harness.client, "--source", source, "--id", "t", "--bwlimit", "2M"]
                    + server.connect, in: work)
            #expect(result.status == 0, "\(result.stdout)")
            let erase = "\r\u{1B}[K"
            #expect(
                result.stdout.contains(erase + "0/2 files") || result.stdout.contains(erase + "1/2 files"),
                "\(result.stdout.debugDescription)")
            #expect(result.stdout.contains("/s"), "\(result.stdout.debugDescription)")
            // The last thing before the summary is the erase: no progress is left on the line.
            let summary = try #require(result.stdout.range(of: "filesync: 2 files scanned"))
            #expect(result.stdout[..<summary.lowerBound].hasSuffix(erase), "\(result.stdout.debugDescription)")
        }

        @Test("without a terminal nothing but the summary is printed: no control characters")
        func withoutATerminal() throws {
            let (work, source, server) = try Self.setUp("progress-pipe")
            let result = try runClient(["--source", source, "--id", "p", "--bwlimit", "2M"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                !result.stderr.contains("\r") && !result.stderr.contains("\u{1B}"), "\(result.stderr.debugDescription)")
            #expect(!result.stdout.contains("\r") && !result.stdout.contains("\u{1B}"))
        }

        @Test("--json-progress prints status messages with restic's fields, then the summary")
        func jsonProgress() throws {
            let (work, source, server) = try Self.setUp("progress-json")
            let result = try runClient(
                ["--source", source, "--id", "j", "--bwlimit", "2M", "--json", "--json-progress"] + server.connect,
                in: work)
            #expect(result.status == 0, "\(result.stderr)")
            let messages = try result.stdout.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            let statuses = messages.dropLast()
            #expect(!statuses.isEmpty, "\(result.stdout)")
            let fields: Set = [
                "messageType", "percentDone", "filesDone", "totalFiles", "bytesDone", "totalBytes", "secondsElapsed",
                "secondsRemaining", "currentFiles",
            ]
            for status in statuses {
                #expect(status["messageType"] as? String == "status")
                #expect(
                    Set(status.keys).isSubset(of: fields) && Set(status.keys).count >= fields.count - 1, "\(status)")
                #expect(status["totalFiles"] as? Int == 2, "\(status)")
            }
            #expect(messages.last?["messageType"] as? String == "summary")
            #expect(messages.last?["sent"] as? Int == 2)
        }
    }
}
