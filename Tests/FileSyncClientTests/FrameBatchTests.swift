import FileSyncCore
import NIOCore
import Testing

@testable import FileSyncClient

@Suite("Frame batches") struct FrameBatchTests {
    private static func frame(_ bytes: Int) -> Frame {
        Frame(kind: .data, payload: ByteBuffer(repeating: 0, count: bytes))
    }

    @Test("a batch is full at 256 KiB, and carries the content of its frames until written")
    func fullAndCarried() {
        var batch = FrameBatch()
        batch.carries(100_000, of: "a.bin", at: 0)
        let first = batch.add(Self.frame(100_000))
        // A control frame carries no content.
        let second = batch.add(Self.frame(50))
        batch.carries(200_000, of: "a.bin", at: 100_000)
        let third = batch.add(Self.frame(200_000))
        #expect([first, second, third] == [false, false, true])
        #expect(batch.content.map(\.count) == [100_000, 200_000])
        #expect(batch.content.map(\.offset) == [0, 100_000])
        batch.removeAll()
        #expect(batch.isEmpty && batch.content.isEmpty)
    }
}
