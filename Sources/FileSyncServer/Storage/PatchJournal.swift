import Crypto
import FileSyncCore

/// The redo journal of an in-place patch: the new bytes of a stored file, written and synced
/// before the file itself is touched, so that a patch interrupted by a crash is completed at the
/// next start instead of leaving a file that is neither the old version nor the new one.
///
/// Layout (integers big-endian):
///
/// ```
/// header   "FSPATCH1" | inode u64 | new size i64 | new mtimeNs i64 | mode u32 | path length u16 | path (UTF-8)
/// record   "R" | offset i64 | length u32 | length bytes        (0 or more, any order)
/// trailer  "E" | record count u32 | SHA-256 of every byte before the trailer's hash (32 bytes)
/// ```
///
/// A journal is valid only if it ends exactly after a trailer whose hash matches: one cut short by
/// a crash while it was being written is ignored (the file was not touched yet).
public struct PatchJournal: Equatable, Sendable {
    /// The stored file the journal patches, as it must be found (inode) and as it must end up.
    public struct Target: Equatable, Sendable {
        public var path: String
        public var inode: UInt64
        public var size: Int64
        public var mtimeNs: Int64
        public var mode: UInt32

        public init(path: String, inode: UInt64, size: Int64, mtimeNs: Int64, mode: UInt32) {
            self.path = path
            self.inode = inode
            self.size = size
            self.mtimeNs = mtimeNs
            self.mode = mode
        }
    }

    /// New bytes for `offset ..< offset + length` of the file, at `range` of the journal.
    public struct Record: Equatable, Sendable {
        public var offset: Int64
        public var range: Range<Int>
    }

    public var target: Target
    public var records: [Record]

    static let magic = Array("FSPATCH1".utf8)
    static let recordTag = UInt8(ascii: "R")
    static let trailerTag = UInt8(ascii: "E")
    /// The bytes of a record before its content.
    public static let recordHeaderSize = 13
    /// The bytes of the trailer.
    public static let trailerSize = 37
    /// Longest record content (a chunk).
    public static let maxRecordLength = ProtocolLimits.maxChunkSize

    // MARK: - Writing

    /// The journal's first bytes.
    public static func header(for target: Target) -> [UInt8] {
        let path = Array(target.path.utf8)
        precondition(path.count <= Int(UInt16.max))
        var bytes = magic
        bytes.appendBigEndian(target.inode)
        bytes.appendBigEndian(UInt64(bitPattern: target.size))
        bytes.appendBigEndian(UInt64(bitPattern: target.mtimeNs))
        bytes.appendBigEndian(target.mode)
        bytes.appendBigEndian(UInt16(path.count))
        return bytes + path
    }

    /// What precedes a record's `length` bytes of content for file offset `offset`.
    public static func recordHeader(offset: Int64, length: Int) -> [UInt8] {
        var bytes = [recordTag]
        bytes.appendBigEndian(UInt64(bitPattern: offset))
        bytes.appendBigEndian(UInt32(length))
        return bytes
    }

    /// The trailer, given the hash of every byte written before it, including the first 5 bytes of
    /// the trailer itself (``trailerPrefix(records:)``).
    public static func trailerPrefix(records: Int) -> [UInt8] {
        var bytes = [trailerTag]
        bytes.appendBigEndian(UInt32(records))
        return bytes
    }

    // MARK: - Reading

    /// Parses and checks a whole journal; `nil` when it is torn, corrupt, or not a journal.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count >= Self.magic.count + 30 + Self.trailerSize,
            bytes[..<Self.magic.count].elementsEqual(Self.magic)
        else { return nil }
        let hashStart = bytes.count - 32
        let digest = SHA256.hash(data: bytes[..<hashStart])
        guard digest.elementsEqual(bytes[hashStart...]) else { return nil }
        var reader = Reader(bytes: bytes, position: Self.magic.count, end: hashStart)
        guard let inode = reader.u64(), let size = reader.u64(), let mtime = reader.u64(), let mode = reader.u32(),
            let pathLength = reader.u16(), let pathBytes = reader.bytes(Int(pathLength)),
            let path = String(validating: pathBytes, as: UTF8.self), Int64(bitPattern: size) >= 0
        else { return nil }
        target = Target(
            path: path, inode: inode, size: Int64(bitPattern: size), mtimeNs: Int64(bitPattern: mtime), mode: mode)
        records = []
        while true {
            guard let tag = reader.u8() else { return nil }
            if tag == Self.trailerTag {
                guard let count = reader.u32(), Int(count) == records.count, reader.position == hashStart else {
                    return nil
                }
                return
            }
            guard tag == Self.recordTag, let offset = reader.u64(), let length = reader.u32(), length >= 1,
                length <= Self.maxRecordLength, Int64(bitPattern: offset) >= 0,
                Int64(bitPattern: offset) <= target.size - Int64(length), reader.remaining >= Int(length)
            else { return nil }
            records.append(
                Record(offset: Int64(bitPattern: offset), range: reader.position..<reader.position + Int(length)))
            reader.position += Int(length)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        var remaining: Int { end - position }

        mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
            guard remaining >= count else { return nil }
            defer { position += count }
            return bytes[position..<position + count]
        }

        mutating func u8() -> UInt8? { bytes(1).map { $0.first! } }
        mutating func u16() -> UInt16? { integer() }
        mutating func u32() -> UInt32? { integer() }
        mutating func u64() -> UInt64? { integer() }

        private mutating func integer<T: FixedWidthInteger>() -> T? {
            bytes(MemoryLayout<T>.size).map { $0.reduce(T(0)) { $0 << 8 | T($1) } }
        }
    }
}
