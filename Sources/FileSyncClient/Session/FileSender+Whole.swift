import FileSyncCore
import FileSyncSystem
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileSender {
    /// A file of at most one block, read and encoded as its file frame, or why it is not sent.
    enum PreparedWhole: Sendable {
        /// The frame, and the size of the content it carries.
        case frame(Frame, size: Int)
        case skipped(String)
    }

    /// Whether `entry` goes as one file frame for `task`.
    func sendsWhole(_ entry: ManifestEntry, task: TransferTask) -> Bool {
        fileFrames && task.kind == .full && entry.size <= Int64(wholeFileLimit)
    }

    /// Hands the files among `entries` (the next tasks, the current one first) that go as one file
    /// frame and are worth a thread's while (``WholeFilePrefetcher/minimumSize``) to the
    /// ``prefetcher``, if there is one.
    func prefetch(_ entries: [ManifestEntry]) {
        guard let prefetcher else { return }
        let task = TransferTask(path: "", kind: .full)
        let worthIt = entries.filter { $0.size >= WholeFilePrefetcher.minimumSize && sendsWhole($0, task: task) }
        prefetcher.prefetch(worthIt) { localPath(of: $0) }
    }

    /// Appends a prepared file frame (counted as content of the file), or reports the file skipped.
    mutating func send(_ prepared: PreparedWhole, of entry: ManifestEntry) async throws -> Outcome {
        switch prepared {
        case .skipped(let reason):
            return .skipped(reason)
        case .frame(let frame, let size):
            try await paced(size, of: entry.path, at: 0)
            try await append(frame)
            return .sent
        }
    }

    /// Opens, checks, reads and encodes the file at `localPath` as ``prepareWhole(_:fd:before:frames:)``
    /// does; for a ``WholeFilePrefetcher`` worker, which shares nothing with the session.
    static func prepareWhole(_ entry: ManifestEntry, at localPath: String, frames: TransferFrames) -> PreparedWhole {
        let fd = open(localPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .skipped(openFailure(errno)) }
        defer { close(fd) }
        var before = stat()
        if let reason = check(fd, isStill: entry, status: &before) { return .skipped(reason) }
        return prepareWhole(entry, fd: fd, before: before, frames: frames)
    }

    /// Reads a file of at most one block, checks it unchanged since `before`, and encodes it as
    /// one file frame: hashed and compressed (when that pays) in one go. A file that changed while
    /// being read is not sent at all (a frame is never abandoned half way, so there is nothing to
    /// abort).
    static func prepareWhole(
        _ entry: ManifestEntry, fd: Int32, before: stat, frames: TransferFrames
    ) -> PreparedWhole {
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
        guard total == size, unchanged(fd, since: before) else {
            return .skipped("changed while being read; it will be sent on the next run")
        }
        return .frame(content.withUnsafeReadableBytes { frames.wholeFile(entry, content: $0) }, size: size)
    }
}
