import FileSyncCore
import FileSyncSystem
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileSender {
    /// Sends a file of at most one block as one file frame: read, checked unchanged, hashed and
    /// compressed (when that pays) in one go. A file that changed while being read is not sent at
    /// all (a frame is never abandoned half way, so there is nothing to abort).
    mutating func sendWhole(_ entry: ManifestEntry, fd: Int32, before: stat) async throws -> Outcome {
        let size = Int(entry.size)
        var content = ByteBufferAllocator().buffer(capacity: max(size, 1))
        var readError: Int32 = 0
        var total = 0
        while total < size || total == 0 {
            let count = content.writeWithUnsafeMutableBytes(minimumWritableBytes: max(size - total, 1)) { buffer in
                var result: Int
                repeat { result = read(fd, buffer.baseAddress, buffer.count) } while result < 0 && errno == EINTR
                if result < 0 { readError = errno }
                return max(result, 0)
            }
            if readError != 0 { return .skipped("read failed: \(FileSyncError.errnoText(readError))") }
            if count == 0 { break }
            total += count
        }
        guard total == size, Self.unchanged(fd, since: before) else {
            return .skipped("changed while being read; it will be sent on the next run")
        }
        try await paced(size, of: entry.path, at: 0)
        let frames = self.frames
        try await append(content.withUnsafeReadableBytes { frames.wholeFile(entry, content: $0) })
        return .sent
    }
}
