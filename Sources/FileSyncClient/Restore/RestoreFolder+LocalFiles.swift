import Crypto
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension RestoreFolder: RestoreLocalFiles {
    public func holdsNode(_ path: RelativePath, as entry: RestoreEntry) -> Bool {
        guard let status = status(of: path), let kind = entry.special, status.special == kind else { return false }
        return status.rdev == (entry.device ?? status.rdev) && status.permissions == entry.mode & 0o7777
            && status.mtimeNs == entry.mtimeNs
    }

    public func isHardLink(_ path: RelativePath, to target: RelativePath) -> Bool {
        guard let one = status(of: path), let other = status(of: target) else { return false }
        return one.kind == .file && other.kind == .file && one.device == other.device && one.inode == other.inode
    }

    /// The status of `path`, nothing followed on the way.
    private func status(of path: RelativePath) -> FileStatus? {
        guard let parent = try? openFolder(path.parentComponents, create: false) else { return nil }
        defer { close(parent) }
        return FileStatus.of(String(path.lastComponent), in: parent)
    }

    public func sha256(of path: RelativePath) -> String? {
        digest(of: path, hasher: .whole(SHA256()))
    }

    public func chunkListDigest(of path: RelativePath, lengths: [Int]) -> String? {
        digest(of: path, hasher: .chunkList(ChunkListHasher(lengths: lengths)))
    }

    /// The digest of the regular file at `path` by `hasher`, in lowercase hex.
    private func digest(of path: RelativePath, hasher: ContentHasher) -> String? {
        let fd = openFile(path)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var hasher = hasher
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ProtocolLimits.blockSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return hasher.finalize()?.hexString }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    public func chunkOffsets(of path: RelativePath) -> [ChunkHash: Int64]? {
        let fd = openFile(path)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var reader = ChunkReader(fd: fd)
        var offsets: [ChunkHash: Int64] = [:]
        do {
            while let chunk = try reader.next() {
                if offsets[chunk.entry.hash] == nil { offsets[chunk.entry.hash] = chunk.offset }
            }
        } catch {
            return nil
        }
        return offsets
    }

    public func partialSize(sha256: String) -> Int64? {
        guard let partial = try? partialFolder(create: false), partial >= 0 else { return nil }
        return FileStatus.of(sha256, in: partial).flatMap { $0.kind == .file ? $0.size : nil }
    }
}
