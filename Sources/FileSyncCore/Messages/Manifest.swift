import NIOCore

/// Client → server, one part of the manifest. The last part has `final` set.
public struct FilesInfo: Codable, Sendable, Equatable {
    public var entries: [ManifestEntry]
    public var final: Bool

    public init(entries: [ManifestEntry], final: Bool) {
        self.entries = entries
        self.final = final
    }
}

/// The binary form of a manifest part: a manifest frame (kind `05`), sent instead of
/// `CLIENT_FILES_INFO` when the `binaryManifest` capability is in force. About a quarter of the
/// JSON's size, since each path is sent as the bytes it does not share with the one before, and
/// parsed without JSON.
///
/// Payload: `u8` flags (bit 0: final part; the others 0), `u32` entry count (at most
/// ``ProtocolLimits/maxEntriesPerPart``), then per entry: `u8` type (0 file, 1 folder, 2 symlink
/// with `metadata`), `u16` bytes shared with the previous path of this part, `u16` length of the
/// rest, the rest (UTF-8), `i64` size, `i64` mtimeNs, `u16` mode, with `metadata` `u32` uid and
/// `u32` gid, with `xattrs` (only with `metadata`) `u16` attribute count and each attribute's `u8`
/// name length, name (UTF-8), `u32` value length and value, for a symlink `u16` target length
/// and the target (UTF-8), and for a special file (type 3, with `specials`) `u8` kind and `u64`
/// device number (0 for a FIFO or socket), for a hard link (type 4, with `hardlinks`) `u16` target
/// length and the target path; all big-endian, nothing after the last entry.
public enum BinaryManifest {
    /// Bytes of an entry besides its path suffix.
    static let fixedBytes = 1 + 2 + 2 + 8 + 8 + 2

    /// The frame payload of one part; `metadata`: the form with owners (and symlinks); `xattrs`
    /// (with `metadata`): with extended attributes.
    public static func encode(
        _ entries: some Collection<ManifestEntry>, final: Bool, metadata: Bool = false, xattrs: Bool = false
    ) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 5 + entries.count * (fixedBytes + 24))
        buffer.writeInteger(UInt8(final ? 1 : 0))
        buffer.writeInteger(UInt32(entries.count))
        var previous: [UInt8] = []
        for entry in entries {
            let path = Array(entry.path.utf8)
            var shared = 0
            let limit = min(previous.count, path.count, Int(UInt16.max))
            while shared < limit && previous[shared] == path[shared] { shared += 1 }
            buffer.writeInteger(UInt8(typeCode(entry.type)))
            buffer.writeInteger(UInt16(shared))
            buffer.writeInteger(UInt16(path.count - shared))
            buffer.writeBytes(path[shared...])
            buffer.writeInteger(entry.size)
            buffer.writeInteger(entry.mtimeNs)
            buffer.writeInteger(UInt16(truncatingIfNeeded: entry.mode))
            if metadata {
                buffer.writeInteger(entry.uid ?? 0)
                buffer.writeInteger(entry.gid ?? 0)
                if xattrs { write(entry.xattrs ?? [], to: &buffer) }
            }
            if let target = entry.target {
                buffer.writeInteger(UInt16(truncatingIfNeeded: target.utf8.count))
                buffer.writeString(target)
            }
            if let special = entry.special {
                buffer.writeInteger(special.code)
                buffer.writeInteger(entry.device ?? 0)
            }
            previous = path
        }
        return buffer
    }

    /// An entry's attributes: `u16` count, then each `u8` name length, name, `u32` value length, value.
    private static func write(_ attributes: [ExtendedAttribute], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(truncatingIfNeeded: attributes.count))
        for attribute in attributes {
            buffer.writeInteger(UInt8(truncatingIfNeeded: attribute.name.utf8.count))
            buffer.writeString(attribute.name)
            buffer.writeInteger(UInt32(truncatingIfNeeded: attribute.value.count))
            buffer.writeBytes(attribute.value)
        }
    }

    /// An entry's attributes, as ``write(_:to:)`` puts them. Sizes are bounded only by the frame
    /// here: an entry beyond the bounds of Protocol.md §6.9 is rejected later, on its own.
    private static func readAttributes(_ buffer: inout ByteBuffer) throws -> [ExtendedAttribute] {
        guard let count = buffer.readInteger(as: UInt16.self) else {
            throw FileSyncError(.malformedFrame, "a manifest frame is truncated or malformed")
        }
        var attributes: [ExtendedAttribute] = []
        for _ in 0..<count {
            guard let length = buffer.readInteger(as: UInt8.self), let name = buffer.readBytes(length: Int(length)),
                let size = buffer.readInteger(as: UInt32.self), Int(size) <= buffer.readableBytes,
                let value = buffer.readBytes(length: Int(size))
            else {
                throw FileSyncError(.malformedFrame, "a manifest frame has a truncated extended attribute")
            }
            guard let text = String(validating: name, as: UTF8.self) else {
                throw FileSyncError(.malformedFrame, "an extended attribute's name in a manifest frame is not UTF-8")
            }
            attributes.append(ExtendedAttribute(name: text, value: value))
        }
        return attributes
    }

    private static func typeCode(_ type: ManifestEntry.EntryType) -> Int {
        switch type {
        case .file: 0
        case .dir: 1
        case .symlink: 2
        case .special: 3
        case .hardlink: 4
        }
    }

    /// Decodes one part. Entries still need ``ManifestEntry/validated()``.
    ///
    /// - Parameters:
    ///   - metadata: the form of `metadata` (owners; symlink entries, type 2, allowed).
    ///   - xattrs: with `metadata`, the form of `xattrs` (extended attributes).
    /// - Throws: `malformedFrame` for anything that does not follow the format: bad flags, a count
    ///   over the limit, a shared prefix longer than the previous path, a path over
    ///   ``ProtocolLimits/maxPathBytes`` or not UTF-8, an unknown type, a target over
    ///   ``ManifestEntry/maxTargetBytes`` or not UTF-8, truncation, trailing bytes.
    public static func decode(
        _ payload: ByteBuffer, metadata: Bool = false, xattrs: Bool = false, specials: Bool = false,
        hardlinks: Bool = false
    ) throws -> (entries: [ManifestEntry], final: Bool) {
        var buffer = payload
        guard let flags = buffer.readInteger(as: UInt8.self), flags & ~1 == 0,
            let count = buffer.readInteger(as: UInt32.self), count <= ProtocolLimits.maxEntriesPerPart
        else {
            throw FileSyncError(.malformedFrame, "a manifest frame has a bad header")
        }
        var entries: [ManifestEntry] = []
        entries.reserveCapacity(Int(min(count, UInt32(buffer.readableBytes / fixedBytes + 1))))
        var previous: [UInt8] = []
        for _ in 0..<count {
            guard let type = buffer.readInteger(as: UInt8.self), type <= (metadata ? 4 : 1),
                type != 3 || specials, type != 4 || hardlinks,
                let shared = buffer.readInteger(as: UInt16.self).map(Int.init), shared <= previous.count,
                let rest = buffer.readInteger(as: UInt16.self).map(Int.init),
                shared + rest <= ProtocolLimits.maxPathBytes,
                let suffix = buffer.readBytes(length: rest),
                let size = buffer.readInteger(as: Int64.self),
                let mtimeNs = buffer.readInteger(as: Int64.self),
                let mode = buffer.readInteger(as: UInt16.self)
            else {
                throw FileSyncError(.malformedFrame, "a manifest frame is truncated or malformed")
            }
            let path = previous[..<shared] + suffix
            guard let string = String(validating: path, as: UTF8.self) else {
                throw FileSyncError(.malformedFrame, "a manifest path is not valid UTF-8")
            }
            var entry = ManifestEntry(
                path: string, type: type == 0 ? .file : .dir, size: size, mtimeNs: mtimeNs, mode: UInt32(mode))
            if metadata {
                guard let uid = buffer.readInteger(as: UInt32.self), let gid = buffer.readInteger(as: UInt32.self)
                else {
                    throw FileSyncError(.malformedFrame, "a manifest frame is truncated or malformed")
                }
                (entry.uid, entry.gid) = (uid, gid)
                if xattrs {
                    let attributes = try readAttributes(&buffer)
                    entry.xattrs = attributes.isEmpty ? nil : attributes
                }
            }
            if type == 2 {
                entry.type = .symlink
                entry.target = try readTarget(&buffer)
            } else if type == 4 {
                entry.type = .hardlink
                entry.target = try readTarget(&buffer)
            } else if type == 3 {
                (entry.type, entry.special, entry.device) = try readSpecial(&buffer)
            }
            entries.append(entry)
            previous = Array(path)
        }
        guard buffer.readableBytes == 0 else {
            throw FileSyncError(.malformedFrame, "a manifest frame has \(buffer.readableBytes) bytes after its entries")
        }
        return (entries, flags & 1 == 1)
    }

    /// A special entry's `u8` kind and `u64` device number (kept for devices only).
    private static func readSpecial(
        _ buffer: inout ByteBuffer
    ) throws -> (ManifestEntry.EntryType, SpecialKind, UInt64?) {
        guard let code = buffer.readInteger(as: UInt8.self), let kind = SpecialKind(code: code),
            let device = buffer.readInteger(as: UInt64.self)
        else {
            throw FileSyncError(.malformedFrame, "a manifest frame has a truncated or unknown special file")
        }
        return (.special, kind, kind.isDevice ? device : nil)
    }

    /// A symlink entry's `u16` length and target.
    private static func readTarget(_ buffer: inout ByteBuffer) throws -> String {
        guard let length = buffer.readInteger(as: UInt16.self).map(Int.init), length <= ManifestEntry.maxTargetBytes,
            let bytes = buffer.readBytes(length: length)
        else {
            throw FileSyncError(.malformedFrame, "a manifest frame has a truncated or overlong symlink target")
        }
        guard let target = String(validating: bytes, as: UTF8.self) else {
            throw FileSyncError(.malformedFrame, "a symlink target in a manifest frame is not valid UTF-8")
        }
        return target
    }
}
