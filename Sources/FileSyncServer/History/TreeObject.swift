import FileSyncCore
import FileSyncSystem

/// A folder of a snapshot, encoded deterministically: the Merkle tree node whose SHA-256 names it.
///
/// Encoding (all integers big-endian): the magic `FSTREE01`, the entry count (u32), then each entry
/// sorted by the UTF-8 bytes of its name: name length (u16) and bytes, kind (u8: 1 file, 2 folder,
/// 3 symlink), mode, uid, gid (u32 each), mtimeNs, size (i64 each); then for a file its SHA-256
/// (32 bytes), inode (u64), ctimeNs (i64), chunk count (u32) and each chunk's length (u32) and
/// SHA-256 (a list of more than ``ChunkListObject/inlineLimit`` chunks: the count with its high bit
/// set, then the number of pieces (u32) and each piece's SHA-256, see ``ChunkListObject``); for a folder its tree's SHA-256; for a symlink the target's length (u32) and bytes; for a
/// special file (kind 4: FIFO, socket or device) its kind (u8, as in manifest frames) and device
/// number (u64). A file whose whole SHA-256 nobody computed (``FileContent/sha256`` `nil`) is kind 5,
/// encoded as a file without the SHA-256, and always has chunks.
/// A folder where an entry has extended attributes is encoded with the magic `FSTREE02` instead,
/// and each of its entries then has, right after its size, its attribute count (u16) and each
/// attribute's name length (u8), name, value length (u32) and value; a folder without any keeps
/// the first form, so that its hash does not change. The same entries therefore always give the same bytes, and an unchanged folder the same hash.
struct TreeObject: Sendable, Equatable {
    /// Sorted by the UTF-8 bytes of their names, no two alike.
    private(set) var entries: [TreeEntry]

    static let magic = Array("FSTREE01".utf8)
    /// The magic of a folder where an entry has extended attributes.
    static let magicWithXattrs = Array("FSTREE02".utf8)

    /// Sorts `entries` by name.
    init(entries: [TreeEntry]) {
        self.entries = entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The entry named `name`, by binary search.
    func entry(named name: String) -> TreeEntry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            let candidate = entries[middle].name
            if candidate == name { return entries[middle] }
            if candidate.utf8.lexicographicallyPrecedes(name.utf8) { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The encoding described above.
    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        let xattrs = entries.contains { !$0.xattrs.isEmpty }
        writer.bytes(xattrs ? Self.magicWithXattrs : Self.magic)
        writer.u32(UInt32(entries.count))
        for entry in entries {
            let name = Array(entry.name.utf8)
            writer.u16(UInt16(name.count))
            writer.bytes(name)
            writer.u8(entry.kindCode)
            writer.u32(entry.mode)
            writer.u32(entry.uid)
            writer.u32(entry.gid)
            writer.u64(UInt64(bitPattern: entry.mtimeNs))
            writer.u64(UInt64(bitPattern: entry.size))
            if xattrs { Self.encode(entry.xattrs, into: &writer) }
            switch entry.content {
            case .file(let file):
                if let sha256 = file.sha256 { writer.bytes(sha256.bytes) }
                writer.u64(file.inode)
                writer.u64(UInt64(bitPattern: file.ctimeNs))
                Self.encodeChunks(of: file, into: &writer)
            case .folder(let hash): writer.bytes(hash.bytes)
            case .symlink(let target):
                writer.u32(UInt32(target.count))
                writer.bytes(target)
            case .special(let kind, let device):
                writer.u8(kind.code)
                writer.u64(device)
            }
        }
        return writer.output
    }

    /// The chunk-list pieces of its files whose lists are split (``ChunkListObject``), in order.
    var listObjects: [ChunkListObject] {
        entries.flatMap { entry -> [ChunkListObject] in
            guard let file = entry.file, file.listInPieces else { return [] }
            return ChunkListObject.pieces(of: file.chunks)
        }
    }

    /// A file's chunk list: inline, or for a list split into pieces its chunk count with the high
    /// bit set, the piece count (u32) and each piece's SHA-256.
    private static func encodeChunks(of file: FileContent, into writer: inout ByteWriter) {
        guard file.listInPieces else {
            writer.u32(UInt32(file.chunks.count))
            for chunk in file.chunks {
                writer.u32(UInt32(chunk.length))
                writer.bytes(chunk.hash.bytes)
            }
            return
        }
        let pieces = ChunkListObject.pieces(of: file.chunks)
        writer.u32(UInt32(file.chunks.count) | Self.splitListFlag)
        writer.u32(UInt32(pieces.count))
        for piece in pieces { writer.bytes(piece.hash.bytes) }
    }

    /// Marks a chunk count whose list is in pieces.
    static let splitListFlag: UInt32 = 1 << 31

    /// Decodes `bytes`, reading the pieces of split chunk lists with `lists`; throws on anything
    /// but a well-formed encoding (a piece that `lists` cannot give included).
    init(
        decoding bytes: [UInt8], lists: (ChunkHash) throws -> ChunkListObject = { _ in throw ByteReader.malformed }
    ) throws {
        var reader = ByteReader(bytes)
        let magic = try reader.bytes(Self.magic.count)
        guard magic == Self.magic || magic == Self.magicWithXattrs else { throw ByteReader.malformed }
        let xattrs = magic == Self.magicWithXattrs
        let count = try reader.u32()
        var entries: [TreeEntry] = []
        for _ in 0..<count {
            let name = String(decoding: try reader.bytes(Int(try reader.u16())), as: UTF8.self)
            let kind = try reader.u8()
            let mode = try reader.u32()
            let uid = try reader.u32()
            let gid = try reader.u32()
            let mtimeNs = Int64(bitPattern: try reader.u64())
            let size = Int64(bitPattern: try reader.u64())
            let attributes = xattrs ? try Self.decodeXattrs(&reader) : []
            let content: TreeEntry.Content
            switch kind {
            case 1: content = .file(try Self.decodeFile(&reader, whole: true, lists: lists))
            case 5: content = .file(try Self.decodeFile(&reader, whole: false, lists: lists))
            case 2: content = .folder(try reader.hash())
            case 3: content = .symlink(try reader.bytes(Int(try reader.u32())))
            case 4:
                guard let kind = SpecialKind(code: try reader.u8()) else { throw ByteReader.malformed }
                content = .special(kind, try reader.u64())
            default: throw ByteReader.malformed
            }
            entries.append(
                TreeEntry(
                    name: name, mode: mode, uid: uid, gid: gid, mtimeNs: mtimeNs, size: size, content: content,
                    xattrs: attributes))
        }
        guard reader.isAtEnd else { throw ByteReader.malformed }
        self.entries = entries
        guard self.encoded() == bytes else { throw ByteReader.malformed }
    }

    private static func encode(_ attributes: [ExtendedAttribute], into writer: inout ByteWriter) {
        writer.u16(UInt16(attributes.count))
        for attribute in attributes {
            let name = Array(attribute.name.utf8)
            writer.u8(UInt8(name.count))
            writer.bytes(name)
            writer.u32(UInt32(attribute.value.count))
            writer.bytes(attribute.value)
        }
    }

    private static func decodeXattrs(_ reader: inout ByteReader) throws -> [ExtendedAttribute] {
        var attributes: [ExtendedAttribute] = []
        for _ in 0..<(try reader.u16()) {
            let name = String(decoding: try reader.bytes(Int(try reader.u8())), as: UTF8.self)
            attributes.append(ExtendedAttribute(name: name, value: try reader.bytes(Int(try reader.u32()))))
        }
        return attributes
    }

    private static func decodeFile(
        _ reader: inout ByteReader, whole: Bool, lists: (ChunkHash) throws -> ChunkListObject
    ) throws -> FileContent {
        let sha256 = whole ? try reader.hash() : nil
        let inode = try reader.u64()
        let ctimeNs = Int64(bitPattern: try reader.u64())
        let count = try reader.u32()
        var chunks: [ChunkEntry] = []
        if count & splitListFlag != 0 {
            // The pieces' total is checked against the count; that they are the canonical cut of
            // the list, by the caller's comparison of the encoding.
            for _ in 0..<(try reader.u32()) {
                chunks += try lists(try reader.hash()).chunks
                guard chunks.count <= count & ~splitListFlag else { throw ByteReader.malformed }
            }
            guard chunks.count == count & ~splitListFlag else { throw ByteReader.malformed }
        }
        for _ in 0..<(count & splitListFlag == 0 ? count : 0) {
            let length = Int(try reader.u32())
            chunks.append(ChunkEntry(length: length, hash: try reader.hash()))
        }
        guard whole || !chunks.isEmpty else { throw ByteReader.malformed }
        return FileContent(
            sha256: sha256, chunks: chunks, inode: inode, ctimeNs: ctimeNs,
            listStoredInline: count & splitListFlag == 0)
    }
}
