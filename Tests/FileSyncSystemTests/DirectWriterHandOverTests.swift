import Crypto
import Foundation
import NIOCore
import Testing

@testable import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Direct writer: buffers handed over")
struct DirectWriterHandOverTests {
    /// A buffer from the page-aligned allocator holding `bytes`.
    static func alignedBuffer(_ bytes: ArraySlice<UInt8>) -> ByteBuffer {
        var buffer = ByteBufferAllocator.pageAligned.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }

    @Test("the page-aligned allocator's buffers start on a page, and keep their bytes and alignment as they grow")
    func allocatorAligns() {
        for size in [1, 4_095, 4_096, 65_537, 1 << 20] {
            var buffer = ByteBufferAllocator.pageAligned.buffer(capacity: size)
            buffer.writeBytes((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            buffer.reserveCapacity(4 * size + 100)
            buffer.writeBytes([42])
            buffer.withUnsafeReadableBytes { bytes in
                #expect(Int(bitPattern: bytes.baseAddress) % DirectWriter.alignment == 0)
            }
            #expect(
                buffer.readableBytesView.prefix(size).elementsEqual(
                    (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
            #expect(buffer.readableBytesView.last == 42)
        }
    }

    @Test("aligned buffers at aligned offsets are written and hashed from where they are; the file and digest match")
    func handsOverAlignedBuffers() throws {
        try DirectWriterTests.withScratchFile { path, fd in
            let content = DirectWriterTests.content(5 << 20 + 3 * 4_096 + 123, seed: 11)
            let writer = try #require(DirectWriter(fd: fd, offset: 0, hashing: true))
            // Whole 1 MiB frames, then one with a few blocks and an unaligned end (staged).
            var start = 0
            for length in [1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 3 * 4_096 + 123] {
                #expect(writer.append(Self.alignedBuffer(content[start..<start + length])))
                start += length
            }
            #expect(writer.finish())
            #expect(writer.handedOverBytes == 5 << 20)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
            #expect(writer.digest == Array(SHA256.hash(data: content)))
        }
    }

    @Test("a buffer is copied, not handed over, when bytes are staged, the offset is unaligned or the address is")
    func copiesWhatCannotBeHandedOver() throws {
        try DirectWriterTests.withScratchFile { path, fd in
            let content = DirectWriterTests.content(4 << 20 + 100, seed: 12)
            let writer = try #require(DirectWriter(fd: fd, offset: 0, hashing: true))
            // 100 bytes staged first: every later offset is unaligned.
            #expect(writer.append(Self.alignedBuffer(content[0..<100])))
            #expect(writer.append(Self.alignedBuffer(content[100..<(1 << 20) + 100])))
            // An unaligned address: a slice one byte into an aligned buffer.
            var shifted = Self.alignedBuffer(content[((1 << 20) + 99)..<content.count])
            shifted.moveReaderIndex(forwardBy: 1)
            #expect(writer.append(shifted))
            #expect(writer.finish())
            #expect(writer.handedOverBytes == 0)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
            #expect(writer.digest == Array(SHA256.hash(data: content)))
        }
    }

    @Test("a caller that reuses its buffer after handing it over does not change what is written")
    func callersBufferStaysItsOwn() throws {
        try DirectWriterTests.withScratchFile { path, fd in
            let first = DirectWriterTests.content(1 << 20, seed: 13)
            let writer = try #require(DirectWriter(fd: fd, offset: 0, hashing: true))
            var buffer = Self.alignedBuffer(first[...])
            #expect(writer.append(buffer))
            // Overwrite the caller's copy in place while the writer may still be writing from it.
            buffer.setBytes([UInt8](repeating: 0xEE, count: 1 << 20), at: 0)
            #expect(writer.finish())
            #expect(writer.handedOverBytes == 1 << 20)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == first)
            #expect(writer.digest == Array(SHA256.hash(data: first)))
        }
    }

    @Test("blocks of zeros in a buffer handed over are left as holes and read back as zeros")
    func zeroBlocksInHandedOverBuffers() throws {
        try DirectWriterTests.withScratchFile { path, fd in
            var content = DirectWriterTests.content(2 << 20, seed: 14)
            content.replaceSubrange(4_096..<(1 << 20), with: repeatElement(0, count: (1 << 20) - 4_096))
            let writer = try #require(DirectWriter(fd: fd, offset: 0))
            #expect(writer.append(Self.alignedBuffer(content[0..<(1 << 20)])))
            #expect(writer.append(Self.alignedBuffer(content[(1 << 20)...])))
            #expect(writer.finish())
            #expect(writer.handedOverBytes == 2 << 20)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(Int(info.st_blocks) * 512 < content.count - (1 << 19))
        }
    }
}
