import CFileSyncShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads exactly `buffer.count` bytes of `fd` starting at `offset` (`pread(2)`, retried on short
/// reads and `EINTR`); `false` on an error or the end of the file.
public func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Bool {
    repeatUntilDone(buffer.count) { done in
        pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
    }
}

/// The first bytes of `fd`, at most `limit` of them (`pread(2)` from offset 0, retried on short
/// reads and `EINTR`, stopping at the end of the file); `nil` on an error.
public func readPrefix(_ fd: Int32, upTo limit: Int) -> [UInt8]? {
    var bytes = [UInt8](repeating: 0, count: limit)
    var count = 0
    while count < limit {
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + count, limit - count, off_t(count)) }
        if got < 0 && errno == EINTR { continue }
        if got < 0 { return nil }
        if got == 0 { break }
        count += got
    }
    return Array(bytes[..<count])
}

/// Writes all of `bytes` to `fd` at its current position (`write(2)`, retried on short writes and
/// `EINTR`); `false` on an error, with `errno` set.
public func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    repeatUntilDone(bytes.count) { done in write(fd, bytes.baseAddress! + done, bytes.count - done) }
}

/// Writes all of `bytes` to `fd` at `offset` (`pwrite(2)`, retried on short writes and `EINTR`);
/// `false` on an error, with `errno` set.
public func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
    repeatUntilDone(bytes.count) { done in
        pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
    }
}

/// Calls `transfer` with the bytes done so far until `count` are done; `false` when it fails (other
/// than `EINTR`) or transfers nothing.
private func repeatUntilDone(_ count: Int, _ transfer: (Int) -> Int) -> Bool {
    var done = 0
    while done < count {
        let result = transfer(done)
        if result < 0 && errno == EINTR { continue }
        guard result > 0 else { return false }
        done += result
    }
    return true
}

/// Commits everything written to the filesystem holding `fd` to stable storage: one `syncfs(2)`
/// (`fsync` of `fd` where the system has no `syncfs`).
public func synchronizeFilesystem(of fd: Int32) -> Bool {
    filesync_syncfs(fd) == 0
}

/// Starts writing the dirty pages of `fd` in `offset ..< offset + count` back to disk without
/// waiting for them, so that a later `fsync` or `syncfs` has little left to wait for. A failure is
/// harmless (the later sync writes them) and is not reported.
public func startWriteback(of fd: Int32, from offset: Int64, count: Int64) {
    _ = filesync_start_writeback(fd, offset, count)
}

/// Raises the soft limit on open files towards `wanted` (never above the hard limit) and returns
/// the limit now in force (`wanted` when unlimited, 0 when it cannot be read).
public func raiseOpenFileLimit(towards wanted: Int) -> Int {
    max(0, Int(filesync_raise_open_file_limit(wanted)))
}
