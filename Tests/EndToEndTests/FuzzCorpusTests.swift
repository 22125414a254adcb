import Foundation
import Testing

extension EndToEnd {
    @Suite("Fuzz corpus") struct FuzzCorpusTests {
        @Test("every input of the fuzz corpus runs through the parsers without a failure")
        func replayCorpus() throws {
            let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("FuzzCorpus").path
            let work = try TemporaryDirectory("fuzz")
            let result = try Command.run(
                Harness.binDirectory.appendingPathComponent("filesync-fuzz").path, [corpus], in: work)
            #expect(result.status == 0, "\(result.stderr)")
            let count = try FileManager.default.contentsOfDirectory(atPath: corpus).count
            #expect(count >= 20)
            #expect(result.stdout.contains("replayed \(count) inputs"), "\(result.stdout)")
        }
    }
}
