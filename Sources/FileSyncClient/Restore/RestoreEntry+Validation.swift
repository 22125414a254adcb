import FileSyncCore

extension RestoreEntry {
    /// The name of the client's own state folder inside the restore target; no entry may use it.
    static let stateFolderName = ".filesync-restore"

    /// Checks every field a hostile server could use to write outside the target folder or make the
    /// client allocate without bound: a valid relative path outside `.filesync-restore`, a size in
    /// 0 … 2^44, a mode ≤ 0o7777, for files a lowercase 64-digit SHA-256, and a chunk list (if any)
    /// of at most 65,536 chunks of 1 … 1 MiB adding up to the size, whose digest the SHA-256 field
    /// is when the entry says `"digest":"chunks"` (§11.3); for symlinks a target of 1 …
    /// 4,095 bytes without NUL, its length the size; extended attributes (files and folders only)
    /// sorted, distinct and within the bounds of Protocol.md §6.9.
    ///
    /// - Throws: `invalidPath` or `malformedMessage`.
    func validated() throws -> RelativePath {
        let path = try RelativePath(validating: self.path)
        guard path.components.first != Substring(Self.stateFolderName) else {
            throw FileSyncError(.invalidPath, "the server listed \"\(self.path)\" inside the client's state folder")
        }
        guard size >= 0, size <= ProtocolLimits.maxFileSize, mode <= 0o7777 else {
            throw malformed("has a size or mode out of range")
        }
        if let xattrs {
            guard type == "file" || type == "dir" else { throw malformed("has extended attributes") }
            try xattrs.checkForm(of: self.path)
            if let violation = xattrs.boundsViolation { throw malformed("has \(violation)") }
        }
        if type == "special" {
            guard let special, size == 0, (device != nil) == special.isDevice else {
                throw malformed("is not a valid special file")
            }
            return path
        }
        guard special == nil, device == nil else { throw malformed("has a special file's fields") }
        if type == "hardlink" {
            guard let target, (try? RelativePath(validating: target)) != nil, target != self.path, size == 0 else {
                throw malformed("has no valid hard link target")
            }
            return path
        }
        if type == "symlink" {
            guard let target, !target.isEmpty, target.utf8.count <= ManifestEntry.maxTargetBytes,
                Int64(target.utf8.count) == size, !target.utf8.contains(0)
            else {
                throw malformed("has no valid symlink target")
            }
            return path
        }
        guard type == "file" else { return path }
        guard let sha256, sha256.utf8.count == 64, sha256.utf8.allSatisfy(Self.isLowercaseHex) else {
            throw malformed("has no valid SHA-256")
        }
        if let chunks {
            guard !chunks.isEmpty, chunks.count <= Self.maxChunks else { throw malformed("has too many chunks") }
            var total: Int64 = 0
            for chunk in chunks {
                guard chunk.length >= 1, chunk.length <= ProtocolLimits.maxChunkSize, chunk.hash != nil else {
                    throw malformed("has an invalid chunk")
                }
                total += Int64(chunk.length)
            }
            guard total == size else { throw malformed("has chunks that do not add up to its size") }
        }
        if let digest {
            guard digest == Self.chunkListDigest, let chunks else { throw malformed("has an unknown digest") }
            var listed = ChunkListDigest()
            for chunk in chunks { listed.add(ChunkEntry(length: chunk.length, hash: chunk.hash!)) }
            guard listed.finalize() == sha256 else { throw malformed("has a digest that is not its chunk list's") }
        }
        return path
    }

    private func malformed(_ problem: String) -> FileSyncError {
        FileSyncError(.malformedMessage, "RESTORE_LIST entry \"\(path)\" \(problem)")
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

extension RestoreChunk {
    /// The chunk's SHA-256, if its hex form is valid.
    var hash: ChunkHash? {
        guard sha256.utf8.count == 64, let bytes = [UInt8](hex: sha256) else { return nil }
        return bytes.withUnsafeBytes { ChunkHash(bytes: $0) }
    }
}
