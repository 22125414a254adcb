import Foundation
import NIOCore
import Testing

@testable import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Direct read") struct DirectReadTests {
    /// `content` written to a scratch file in `folder` (synced), open for reading.
    static func withFile(
        _ content: [UInt8], in folder: String, _ body: (_ fd: Int32) throws -> Void
    ) throws {
        let path = folder + "/direct-read-\(UUID().uuidString)"
        try Data(content).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        try body(fd)
    }

    static let content = DirectWriterTests.content((3 << 20) + 123, seed: 11)

    @Test("aligned reads, the last one ending inside a block, give exactly the file's bytes")
    func readsExactBytes() throws {
        try Self.withFile(Self.content, in: NSTemporaryDirectory()) { fd in
            for (offset, count) in [(0, 1 << 20), (1 << 20, 4096), (2 << 20, (1 << 20) + 123), (8192, 1)] {
                var buffer = ByteBufferAllocator().buffer(capacity: count + DirectRead.slack)
                let outcome = DirectRead.read(fd, at: Int64(offset), count: count, into: &buffer)
                try #require(outcome == .read, "at \(offset), \(count) bytes: \(outcome)")
                #expect(buffer.readableBytes == count)
                #expect(buffer.readableBytesView.elementsEqual(Self.content[offset..<(offset + count)]))
            }
            // O_DIRECT is off again: a plain read into an unaligned buffer at an unaligned offset works.
            var byte: UInt8 = 0
            #expect(pread(fd, &byte, 1, 4097) == 1 && byte == Self.content[4097])
        }
    }

    @Test("an unaligned offset, a buffer that holds bytes already, or a range past the end read nothing")
    func notPossible() throws {
        try Self.withFile(Self.content, in: NSTemporaryDirectory()) { fd in
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            #expect(DirectRead.read(fd, at: 100, count: 4096, into: &buffer) == .notPossible)
            #expect(DirectRead.read(fd, at: Int64(3 << 20), count: 4096, into: &buffer) == .notPossible)
            #expect(buffer.readableBytes == 0)
            buffer.writeInteger(UInt8(1))
            #expect(DirectRead.read(fd, at: 0, count: 4096, into: &buffer) == .notPossible)
            #expect(buffer.readableBytes == 1)
        }
    }
}
