import FileSyncClient
import FileSyncCore
import Testing

@Suite("Restore receive state machine")
struct RestoreStateMachineTests {
    static let hash = [UInt8](repeating: 1, count: 32).withUnsafeBytes { ChunkHash(bytes: $0)! }
    static let entries = [
        RestoreEntry(
            path: "a", type: "file", size: 10, mtimeNs: 5, mode: 0o644, sha256: String(repeating: "a", count: 64)),
        RestoreEntry(
            path: "b", type: "file", size: 2 << 20, mtimeNs: 5, mode: 0o644, sha256: String(repeating: "b", count: 64),
            chunks: [
                RestoreChunk(length: 1 << 20, sha256: hash.description),
                RestoreChunk(length: 1 << 20, sha256: hash.description),
            ]),
    ]
    static let wants = [RestoreWant.File(entry: 0, offset: 4), RestoreWant.File(entry: 1, chunks: [1])]
    static func header(_ entry: Int, offset: Int64? = nil, chunked: Bool = false) -> FileHeader {
        let e = entries[entry]
        return FileHeader(
            path: e.path, size: e.size, mtimeNs: e.mtimeNs, mode: e.mode, offset: offset,
            transfer: chunked ? .chunked : nil)
    }

    func code(_ body: () throws -> Void) -> FileSyncError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? FileSyncError)?.code
        }
    }

    @Test("the legal sequence: header, data up to size - offset, end; chunked: the chunks asked, end; RESTORE_END")
    func legal() throws {
        var machine = RestoreStateMachine(entries: Self.entries, wants: Self.wants)
        #expect(try machine.header(Self.header(0, offset: 4)) == 0)
        try machine.data(count: 2)
        try machine.data(count: 4)
        #expect(try machine.end() == 0)
        #expect(try machine.header(Self.header(1, chunked: true)) == 1)
        #expect(try machine.chunk(hash: Self.hash, length: 1 << 20) == 1)
        #expect(try machine.end() == 1)
        try machine.finish()
        #expect(machine.isFinished)
    }

    @Test("a header that is not the file asked next is unexpectedMessage")
    func wrongHeader() {
        for header in [
            Self.header(1, chunked: true), Self.header(0), Self.header(0, offset: 5),
            Self.header(0, offset: 4, chunked: true),
        ] {
            var machine = RestoreStateMachine(entries: Self.entries, wants: Self.wants)
            #expect(code { _ = try machine.header(header) } == .unexpectedMessage)
        }
    }

    @Test("too many or too few bytes are sizeMismatch; frames out of place unexpectedMessage")
    func sizes() throws {
        var machine = RestoreStateMachine(entries: Self.entries, wants: Self.wants)
        #expect(code { try machine.data(count: 1) } == .unexpectedMessage)
        #expect(code { _ = try machine.end() } == .unexpectedMessage)
        #expect(code { try machine.finish() } == .unexpectedMessage)
        _ = try machine.header(Self.header(0, offset: 4))
        #expect(code { try machine.data(count: 7) } == .sizeMismatch)
        try machine.data(count: 5)
        #expect(code { _ = try machine.end() } == .sizeMismatch)
        #expect(code { _ = try machine.chunk(hash: Self.hash, length: 1 << 20) } == .unexpectedMessage)
    }

    @Test("a chunk frame must be the next chunk asked, with its listed hash and length")
    func chunks() throws {
        var machine = RestoreStateMachine(entries: Self.entries, wants: Self.wants)
        _ = try machine.abort()  // in place of the first file's header
        _ = try machine.header(Self.header(1, chunked: true))
        #expect(code { _ = try machine.end() } == .unexpectedMessage)
        #expect(code { _ = try machine.chunk(hash: Self.hash, length: 5) } == .unexpectedMessage)
        let other = [UInt8](repeating: 2, count: 32).withUnsafeBytes { ChunkHash(bytes: $0)! }
        #expect(code { _ = try machine.chunk(hash: other, length: 1 << 20) } == .unexpectedMessage)
        _ = try machine.chunk(hash: Self.hash, length: 1 << 20)
        #expect(code { _ = try machine.chunk(hash: Self.hash, length: 1 << 20) } == .unexpectedMessage)
        #expect(try machine.abort() == 1)
        #expect(code { _ = try machine.abort() } == .unexpectedMessage)
        try machine.finish()
    }
}
