import Foundation
import TestSupport
import Testing

extension EndToEnd {
    /// What a cut costs during an in-place patch (Protocol.md §5.6).
    @Suite("Cut in-place patches") struct PatchCutTests {
        @Test("a cut in-place patch of mostly new content is kept as a partial and resumed, not sent again")
        func cutPatchIsResumed() throws {
            let work = try TemporaryDirectory("patch-cut")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, extra: DeltaTests.inPlace)
            let file = source + "/disk.img"
            // 1 MiB: new content up to the in-place limit (1 MiB) is patched in place.
            try SampleTree.writeLarge(1 << 20, to: file, seed: 31)
            let first = try runClient(["--source", source, "--id", "p"] + server.connect + ["--json"], in: work)
            #expect(first.status == 0, "\(first.stderr)")

            // All of it new, same size: the server journals every chunk; the link is cut after
            // about 700 KiB of them went through.
            try SampleTree.writeLarge(1 << 20, to: file, seed: 32)
            let proxy = try FaultProxy(upstreamPort: server.port, faults: [.cut(after: 700 << 10)])
            let cut = try runClient(
                [
                    "--source", source, "--id", "p", "--server", "127.0.0.1:\(proxy.port)", "--json", "--retries", "1",
                    "--retry-wait", "20ms",
                ], in: work)
            #expect(cut.status == 0, "\(cut.stderr)")
            let summary = try cut.json()
            #expect(summary["retries"] as? Int == 1)
            #expect(server.log.contains(/the cut in-place patch is kept as a partial to resume/))
            // What the server had journaled is resumed (at least the 64 KiB of a chunk), not sent again.
            #expect((summary["bytesResumed"] as? Int ?? 0) >= 64 << 10, "\(summary)")
            #expect(try TreeSnapshot(of: root + "/p") == TreeSnapshot(of: source))
        }
    }
}
