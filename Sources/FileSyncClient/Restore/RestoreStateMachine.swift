import FileSyncCore

/// Which frame of the server's may come next on the client's side of a restore (Protocol.md
/// §11.3): for each wanted file in order, `FILE_HEADER` matching its entry and want, then data
/// frames adding up to exactly `size − offset` or the chunk frames asked, in order, each with its
/// listed hash and length, then `FILE_END`; or `FILE_ABORT` at any point of a file, in place of its
/// header included; then `RESTORE_END`. Pure: ``RestoreReceiver`` does the writing.
///
/// A violation is a session error (`unexpectedMessage` or `sizeMismatch`): the client stops and
/// keeps what it has for a later run.
public struct RestoreStateMachine: Sendable {
    enum State: Sendable, Equatable {
        /// Waiting for the header (or abort) of `wants[next]`, or `RESTORE_END` after the last.
        case between(next: Int)
        case data(position: Int, received: Int64, expected: Int64)
        /// `slot` indexes the want's chunk list.
        case chunks(position: Int, slot: Int)
        case finished
    }

    private let entries: [RestoreEntry]
    private let wants: [RestoreWant.File]
    private(set) var state = State.between(next: 0)

    public init(entries: [RestoreEntry], wants: [RestoreWant.File]) {
        self.entries = entries
        self.wants = wants
    }

    /// Accepts a `FILE_HEADER`; returns the position of its want.
    public mutating func header(_ header: FileHeader) throws -> Int {
        guard case .between(let next) = state, next < wants.count else { throw Self.unexpected("FILE_HEADER") }
        let want = wants[next]
        let entry = entries[want.entry]
        guard header.path == entry.path, header.size == entry.size, header.mtimeNs == entry.mtimeNs,
            header.mode == entry.mode, (header.offset ?? 0) == (want.offset ?? 0),
            (header.transfer == .chunked) == (want.chunks != nil), header.transfer == nil || want.chunks != nil
        else {
            throw FileSyncError(
                .unexpectedMessage, "FILE_HEADER for \"\(header.path)\" does not match the file asked next")
        }
        if want.chunks != nil {
            state = .chunks(position: next, slot: 0)
        } else {
            state = .data(position: next, received: 0, expected: entry.size - (want.offset ?? 0))
        }
        return next
    }

    /// Accepts a data frame of `count` content bytes (after decompression).
    public mutating func data(count: Int) throws {
        guard case .data(let position, let received, let expected) = state else {
            throw Self.unexpected("a data frame")
        }
        guard received + Int64(count) <= expected else {
            throw FileSyncError(.sizeMismatch, "the server sent more than \(expected) bytes of a file")
        }
        state = .data(position: position, received: received + Int64(count), expected: expected)
    }

    /// Accepts a chunk frame; returns the index of the chunk in the entry's list.
    public mutating func chunk(hash: ChunkHash, length: Int) throws -> Int {
        guard case .chunks(let position, let slot) = state, let asked = wants[position].chunks, slot < asked.count
        else { throw Self.unexpected("a chunk frame") }
        let index = asked[slot]
        let listed = entries[wants[position].entry].chunks![index]
        guard listed.hash == hash, listed.length == length else {
            throw FileSyncError(.unexpectedMessage, "a chunk frame that is not chunk \(index) as listed")
        }
        state = .chunks(position: position, slot: slot + 1)
        return index
    }

    /// Accepts `FILE_END`; returns the position of the finished file's want.
    public mutating func end() throws -> Int {
        switch state {
        case .data(let position, let received, let expected):
            guard received == expected else {
                throw FileSyncError(.sizeMismatch, "FILE_END after \(received) of \(expected) bytes")
            }
            state = .between(next: position + 1)
            return position
        case .chunks(let position, let slot):
            guard slot == wants[position].chunks!.count else { throw Self.unexpected("FILE_END before every chunk") }
            state = .between(next: position + 1)
            return position
        default:
            throw Self.unexpected("FILE_END")
        }
    }

    /// Accepts `FILE_ABORT`, inside a file or in place of it; returns the position of its want.
    public mutating func abort() throws -> Int {
        let position: Int
        switch state {
        case .between(let next) where next < wants.count: position = next
        case .data(let current, _, _), .chunks(let current, _): position = current
        default: throw Self.unexpected("FILE_ABORT")
        }
        state = .between(next: position + 1)
        return position
    }

    /// Accepts `RESTORE_END`, only after every wanted file.
    public mutating func finish() throws {
        guard state == .between(next: wants.count) else { throw Self.unexpected("RESTORE_END") }
        state = .finished
    }

    public var isFinished: Bool { state == .finished }

    private static func unexpected(_ what: String) -> FileSyncError {
        FileSyncError(.unexpectedMessage, "\(what) is not allowed at this point of a restore")
    }
}
