import FileSyncSystem
import Foundation
import Testing

extension EndToEnd {
    /// Command lines that cannot work: a usage error (exit 64) that says why, before any connection.
    @Suite("Usage errors") struct UsageErrorTests {
        @Test("--dry-run with --watch, and an IPv6 server address without brackets, are usage errors")
        func refusedCombinations() throws {
            let work = try TemporaryDirectory("usage-errors")
            let source = try work.subfolder("source")
            let watch = try runClient(
                ["--source", source, "--id", "u", "--server", "127.0.0.1:9", "-n", "--watch"], in: work, timeout: 30)
            #expect(watch.status == 64, "\(watch.stderr)")
            #expect(watch.stderr.contains("--watch"), "\(watch.stderr)")
            let secret = work.path + "/secret"
            try KeyFile.write(KeyFile.generate(), to: secret)
            for server in ["::1", "::1:7733"] {
                let bare = try runClient(
                    ["--source", source, "--id", "u", "--secret-file", secret, "--server", server], in: work,
                    timeout: 30)
                #expect(bare.status == 64, "\(server): \(bare.stderr)")
                #expect(bare.stderr.contains("[ADDRESS]:PORT"), "\(server): \(bare.stderr)")
            }
        }
    }
}
