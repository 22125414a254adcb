import FileSyncCore

/// One part of a client's manifest, and the rule for its form (Protocol.md §4): a session's
/// manifest takes one form, manifest frames when `binaryManifest` is in force and
/// `CLIENT_FILES_INFO` otherwise, never a mix. Pure: it only decodes.
struct ManifestPart {
    var entries: [ManifestEntry]
    var final: Bool

    /// The part `frame` carries, checked against the form in force (`binary`: `binaryManifest`).
    /// Symlink entries are allowed only with `metadata` in force (`symlinks`); extended attributes
    /// are read only with `xattrs` (and ignored in `CLIENT_FILES_INFO` without it).
    ///
    /// - Throws: `unexpectedMessage` for a part of the other form or a frame that is no manifest
    ///   part; what decoding throws for a malformed one (`malformedFrame` for a symlink entry in a
    ///   manifest frame, `malformedMessage` in `CLIENT_FILES_INFO`, without `metadata`).
    init(
        _ frame: Frame, binary: Bool, symlinks: Bool = false, xattrs: Bool = false, specials: Bool = false,
        hardlinks: Bool = false
    ) throws {
        if frame.kind == .manifest {
            guard binary else {
                throw FileSyncError(.unexpectedMessage, "a manifest frame, but binaryManifest was not negotiated")
            }
            (entries, final) = try BinaryManifest.decode(
                frame.payload, metadata: symlinks, xattrs: symlinks && xattrs, specials: symlinks && specials,
                hardlinks: symlinks && hardlinks)
            return
        }
        guard case .filesInfo(let info) = try Message(frame: frame) else {
            throw FileSyncError(.unexpectedMessage, "expected CLIENT_FILES_INFO")
        }
        guard !binary else {
            throw FileSyncError(
                .unexpectedMessage, "CLIENT_FILES_INFO, but binaryManifest is in force: manifest frames only")
        }
        guard symlinks || !info.entries.contains(where: { $0.type == .symlink }) else {
            throw FileSyncError(.malformedMessage, "a symlink entry, but metadata was not negotiated")
        }
        guard symlinks && specials || !info.entries.contains(where: { $0.type == .special }) else {
            throw FileSyncError(.malformedMessage, "a special file entry, but specials was not negotiated")
        }
        guard symlinks && hardlinks || !info.entries.contains(where: { $0.type == .hardlink }) else {
            throw FileSyncError(.malformedMessage, "a hard link entry, but hardlinks was not negotiated")
        }
        // Owners are a field of `metadata`; without it they are unknown fields, ignored (§1).
        let entries =
            !symlinks ? info.entries.map(\.withoutOwner) : xattrs ? info.entries : info.entries.map(\.withoutXattrs)
        (self.entries, final) = (entries, info.final)
    }
}
