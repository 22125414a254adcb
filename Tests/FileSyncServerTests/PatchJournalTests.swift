import Crypto
import FileSyncCore
import FileSyncServer
import Testing

@Suite("Patch journal") struct PatchJournalTests {
    static let target = PatchJournal.Target(
        path: "vm/disk.img", inode: 1234, size: 1 << 20, mtimeNs: 1_718_000_000_123_456_789, mode: 0o644)

    /// A journal as the server writes it: header, records, trailer with the SHA-256.
    static func journal(_ records: [(Int64, [UInt8])], target: PatchJournal.Target = target) -> [UInt8] {
        var bytes = PatchJournal.header(for: target)
        for (offset, content) in records {
            bytes += PatchJournal.recordHeader(offset: offset, length: content.count) + content
        }
        bytes += PatchJournal.trailerPrefix(records: records.count)
        return bytes + SHA256.hash(data: bytes)
    }

    @Test("a complete journal decodes to its target and records")
    func roundTrip() throws {
        let bytes = Self.journal([(4096, [1, 2, 3]), (0, Array(repeating: 9, count: 100))])
        let journal = try #require(PatchJournal(decoding: bytes))
        #expect(journal.target == Self.target)
        #expect(journal.records.map(\.offset) == [4096, 0])
        #expect(Array(bytes[journal.records[0].range]) == [1, 2, 3])
        #expect(bytes[journal.records[1].range].allSatisfy { $0 == 9 })
        #expect(PatchJournal(decoding: Self.journal([])) != nil, "a patch may only change the size, mode or time")
    }

    @Test("a journal cut short anywhere, altered, or with a record outside the file is refused")
    func tornOrInvalid() {
        let bytes = Self.journal([(4096, [1, 2, 3]), (8192, [4, 5])])
        for length in [0, 8, 40, bytes.count - 33, bytes.count - 1] {
            #expect(PatchJournal(decoding: Array(bytes.prefix(length))) == nil, "cut at \(length)")
        }
        var altered = bytes
        altered[60] ^= 1
        #expect(PatchJournal(decoding: altered) == nil)
        #expect(PatchJournal(decoding: Self.journal([((1 << 20) - 2, [1, 2, 3])])) == nil, "past the new size")
        #expect(PatchJournal(decoding: Self.journal([(-1, [1])])) == nil, "negative offset")
        #expect(PatchJournal(decoding: Self.journal([(0, [])])) == nil, "empty record")
    }
}
