import FileSyncCore

/// One part of a client's manifest, and the rule for its form (Protocol.md §4): a session's
/// manifest takes one form, manifest frames when `binaryManifest` is in force and
/// `CLIENT_FILES_INFO` otherwise, never a mix. Pure: it only decodes.
struct ManifestPart {
    var entries: [ManifestEntry]
    var final: Bool

    /// The part `frame` carries, checked against the form in force (`binary`: `binaryManifest`).
    ///
    /// - Throws: `unexpectedMessage` for a part of the other form or a frame that is no manifest
    ///   part; what decoding throws for a malformed one.
    init(_ frame: Frame, binary: Bool) throws {
        if frame.kind == .manifest {
            guard binary else {
                throw FileSyncError(.unexpectedMessage, "a manifest frame, but binaryManifest was not negotiated")
            }
            (entries, final) = try BinaryManifest.decode(frame.payload)
            return
        }
        guard case .filesInfo(let info) = try Message(frame: frame) else {
            throw FileSyncError(.unexpectedMessage, "expected CLIENT_FILES_INFO")
        }
        guard !binary else {
            throw FileSyncError(
                .unexpectedMessage, "CLIENT_FILES_INFO, but binaryManifest is in force: manifest frames only")
        }
        (entries, final) = (info.entries, info.final)
    }
}
