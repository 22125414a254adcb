import FileSyncCore
import FileSyncSystem

/// Appends big-endian integers and raw bytes: the encodings of trees and packs.
struct ByteWriter {
    private(set) var output: [UInt8] = []

    mutating func u8(_ value: UInt8) { output.append(value) }
    mutating func u16(_ value: UInt16) { append(UInt64(value), bytes: 2) }
    mutating func u32(_ value: UInt32) { append(UInt64(value), bytes: 4) }
    mutating func u64(_ value: UInt64) { append(value, bytes: 8) }
    mutating func bytes(_ value: [UInt8]) { output += value }

    private mutating func append(_ value: UInt64, bytes: Int) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            output.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }
}

/// Reads what ``ByteWriter`` wrote, throwing ``malformed`` past the end.
struct ByteReader {
    private let input: [UInt8]
    private var position = 0

    static let malformed = FileSyncError(.storageFailed, "a history object is malformed")

    init(_ input: [UInt8]) { self.input = input }

    var isAtEnd: Bool { position == input.count }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, input.count - position >= count else { throw Self.malformed }
        defer { position += count }
        return Array(input[position..<position + count])
    }

    mutating func u8() throws -> UInt8 { UInt8(try integer(1)) }
    mutating func u16() throws -> UInt16 { UInt16(try integer(2)) }
    mutating func u32() throws -> UInt32 { UInt32(try integer(4)) }
    mutating func u64() throws -> UInt64 { try integer(8) }

    mutating func hash() throws -> ChunkHash {
        try bytes(ChunkHash.byteCount).withUnsafeBytes { ChunkHash(bytes: $0)! }
    }

    private mutating func integer(_ count: Int) throws -> UInt64 {
        guard input.count - position >= count else { throw Self.malformed }
        var value: UInt64 = 0
        for index in position..<position + count { value = value << 8 | UInt64(input[index]) }
        position += count
        return value
    }
}
