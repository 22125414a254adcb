import Crypto
import FileSyncCore
import Testing

@testable import FileSyncServer

/// The receive rules on their own, one test per out-of-order or lying frame of the hostile corpus
/// (Tests/EndToEndTests/HostileCorpusTests.swift, HostileSessionTests.swift), and the commit rules.
@Suite("Receive state machine") struct ReceiveStateMachineTests {
    typealias Machine = ReceiveStateMachine

    /// A machine expecting the files `paths`, with `offers` and `chunkTasks`.
    static func machine(
        _ paths: [String] = ["f"], offers: [String: PartialStore.Offer] = [:],
        chunkTasks: [String: TransferTask.Kind] = [:], fileFrames: Bool = false,
        policy: CommitPolicy = CommitPolicy(maxFiles: 8192, maxBytes: 1 << 29, maxUnnamed: 0)
    ) throws -> Machine {
        var set = PathSet()
        var requested = EntrySet()
        for (index, path) in paths.enumerated() {
            _ = try set.insert(path)
            _ = requested.insert(index)
        }
        let agreement = Machine.Agreement(
            expected: ExpectedFiles(requested, in: set), offers: offers, chunkTasks: chunkTasks,
            hasCatalog: !chunkTasks.isEmpty, fileFrames: fileFrames)
        return Machine(agreement, policy: policy)
    }

    static func header(_ path: String = "f", size: Int64 = 4, offset: Int64? = nil, transfer: TransferTask.Kind? = nil)
        -> FileHeader
    {
        FileHeader(path: path, size: size, mtimeNs: 1, mode: 0o644, offset: offset, transfer: transfer)
    }

    /// The names of `actions`, to compare sequences.
    static func names(_ actions: [Machine.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .open(_, _, let resume): resume == nil ? "open" : "resume"
            case .openChunked(_, _, let kind): "openChunked(\(kind.rawValue))"
            case .removePartial: "removePartial"
            case .decodeData: "decodeData"
            case .write: "write"
            case .acceptChunkList: "acceptChunkList"
            case .acceptChunk: "acceptChunk"
            case .decodeWholeFile: "decodeWholeFile"
            case .storeWholeFile(_, _, let unnamed): unnamed ? "storeWholeFile(unnamed)" : "storeWholeFile"
            case .finishFile: "finishFile"
            case .finishAssembly: "finishAssembly"
            case .abandonFile: "abandonFile"
            case .acknowledge(let results): "acknowledge(\(results.count))"
            case .awaitCommit: "awaitCommit"
            case .commitPending: "commitPending"
            }
        }
    }

    /// Expects `event` to end the session with `code`.
    static func expectViolation(
        _ code: FileSyncError.Code, _ event: Machine.Event, on machine: inout Machine,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let actions = try machine.handle(event)
            Issue.record("no error; actions \(names(actions))", sourceLocation: sourceLocation)
        } catch let error as FileSyncError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: - A plain file

    @Test("a file in order: header, data, FILE_END, then DONE commits and acknowledges it")
    func plainFileInOrder() throws {
        var machine = try Self.machine()
        #expect(Self.names(try machine.handle(.fileHeader(Self.header()))) == ["open"])
        #expect(Self.names(try machine.handle(.data)) == ["decodeData"])
        #expect(Self.names(try machine.handle(.dataDecoded(bytes: 4))) == ["write"])
        #expect(Self.names(try machine.handle(.fileEnd)) == ["finishFile"])
        #expect(try machine.handle(.queued(bytes: 4, unnamed: false)).isEmpty)
        #expect(try machine.handle(.settled(committerIdle: true)).isEmpty, "one file is no batch yet")
        #expect(Self.names(try machine.handle(.done)) == ["commitPending", "awaitCommit"])
        #expect(machine.isDone)
        _ = try machine.handle(.commitStarted)
        #expect(Self.names(try machine.handle(.committed([FileResult(path: "f")]))) == ["acknowledge(1)"])
        #expect(machine.stored == 1 && machine.failed == 0 && machine.missing == 0)
    }

    @Test("FILE_HEADER for a file that was not requested")
    func notRequested() throws {
        var machine = try Self.machine(["asked"])
        Self.expectViolation(.unexpectedMessage, .fileHeader(Self.header("other")), on: &machine)
    }

    @Test("FILE_HEADER with a traversal path")
    func traversal() throws {
        var machine = try Self.machine(["asked"])
        Self.expectViolation(.invalidPath, .fileHeader(Self.header("../not-asked")), on: &machine)
    }

    @Test("the same file twice")
    func sameFileTwice() throws {
        var machine = try Self.machine()
        _ = try machine.handle(.fileHeader(Self.header()))
        _ = try machine.handle(.fileEnd)
        Self.expectViolation(.unexpectedMessage, .fileHeader(Self.header()), on: &machine)
    }

    @Test("FILE_HEADER before the previous file ended")
    func headerInsideFile() throws {
        var machine = try Self.machine(["f", "g"])
        _ = try machine.handle(.fileHeader(Self.header()))
        Self.expectViolation(.unexpectedMessage, .fileHeader(Self.header("g")), on: &machine)
    }

    @Test("an impossible size and mode")
    func impossibleSizeAndMode() throws {
        var machine = try Self.machine()
        let header = FileHeader(path: "f", size: -5, mtimeNs: 1, mode: 0o177777)
        Self.expectViolation(.malformedMessage, .fileHeader(header), on: &machine)
    }

    @Test("a resume offset that was never offered")
    func unofferedOffset() throws {
        var machine = try Self.machine()
        Self.expectViolation(.unexpectedMessage, .fileHeader(Self.header(size: 100, offset: 50)), on: &machine)
    }

    @Test("an offered resume is opened at its offset; a file sent whole instead drops the partial")
    func offeredResume() throws {
        let offer = PartialStore.Offer(name: "p", offset: 50, hasher: SHA256(), prefixSha256: "")
        var resumed = try Self.machine(offers: ["f": offer])
        #expect(Self.names(try resumed.handle(.fileHeader(Self.header(size: 100, offset: 50)))) == ["resume"])
        var whole = try Self.machine(offers: ["f": offer])
        #expect(Self.names(try whole.handle(.fileHeader(Self.header(size: 100)))) == ["removePartial", "open"])
    }

    @Test("a data frame outside any file")
    func dataOutsideFile() throws {
        var machine = try Self.machine()
        Self.expectViolation(.unexpectedMessage, .data, on: &machine)
    }

    @Test("FILE_END and FILE_ABORT outside any file")
    func endOutsideFile() throws {
        var machine = try Self.machine()
        Self.expectViolation(.unexpectedMessage, .fileEnd, on: &machine)
        Self.expectViolation(.unexpectedMessage, .fileAbort(reason: "x"), on: &machine)
    }

    @Test("DONE in the middle of a file, and DONE as the first frame of the transfer")
    func doneInsideFile() throws {
        var machine = try Self.machine()
        _ = try machine.handle(.fileHeader(Self.header()))
        Self.expectViolation(.unexpectedMessage, .done, on: &machine)
        var empty = try Self.machine()
        #expect(try empty.handle(.done).isEmpty)
        #expect(empty.isDone && empty.missing == 1)
    }

    @Test("manifest, tasks and ack frames, and other control messages, during the transfer")
    func framesOfOtherPhases() throws {
        var machine = try Self.machine()
        for kind in [Frame.Kind.manifest, .tasks, .ack] {
            Self.expectViolation(.unexpectedMessage, .frame(kind), on: &machine)
        }
        Self.expectViolation(.unexpectedMessage, .message(.hello), on: &machine)
    }

    // MARK: - A file that cannot be stored

    @Test("a file that cannot be stored: its data is dropped and it fails alone at FILE_END")
    func discardedFile() throws {
        var machine = try Self.machine()
        _ = try machine.handle(.fileHeader(Self.header()))
        _ = try machine.handle(.storageFailed(FileSyncError(.storageFailed, "disk full")))
        #expect(Self.names(try machine.handle(.data)) == ["decodeData"])
        #expect(try machine.handle(.dataDecoded(bytes: 4)).isEmpty, "decoded to be dropped, not written")
        let actions = try machine.handle(.fileEnd)
        guard case .acknowledge(let results) = actions.first else {
            Issue.record("\(Self.names(actions))")
            return
        }
        #expect(results.first?.error?.code == FileSyncError.Code.storageFailed.rawValue)
        #expect(machine.failed == 1)
    }

    @Test("more data than announced for a file being dropped")
    func discardedFileOverflow() throws {
        var machine = try Self.machine()
        _ = try machine.handle(.fileHeader(Self.header()))
        _ = try machine.handle(.storageFailed(FileSyncError(.storageFailed, "disk full")))
        Self.expectViolation(.sizeMismatch, .dataDecoded(bytes: 24), on: &machine)
    }

    @Test("less data than announced for a file being dropped, then FILE_END")
    func discardedFileShort() throws {
        var machine = try Self.machine()
        _ = try machine.handle(.fileHeader(Self.header()))
        _ = try machine.handle(.storageFailed(FileSyncError(.storageFailed, "disk full")))
        _ = try machine.handle(.dataDecoded(bytes: 1))
        Self.expectViolation(.sizeMismatch, .fileEnd, on: &machine)
    }

    @Test("more data than announced for a file being received ends the session before it is written")
    func receivedFileOverflow() throws {
        var machine = try Self.machine()
        _ = try machine.handle(.fileHeader(Self.header(size: 4)))
        #expect(Self.names(try machine.handle(.dataDecoded(bytes: 3))) == ["write"])
        #expect(Self.names(try machine.handle(.data)) == ["decodeData"])
        Self.expectViolation(.sizeMismatch, .dataDecoded(bytes: 2), on: &machine)
    }

    @Test("a resumed file counts from its offset: more than the rest of it is too much")
    func resumedFileOverflow() throws {
        let offer = PartialStore.Offer(name: "p", offset: 50, hasher: SHA256(), prefixSha256: "")
        var machine = try Self.machine(offers: ["f": offer])
        _ = try machine.handle(.fileHeader(Self.header(size: 100, offset: 50)))
        #expect(Self.names(try machine.handle(.dataDecoded(bytes: 50))) == ["write"])
        Self.expectViolation(.sizeMismatch, .dataDecoded(bytes: 1), on: &machine)
    }

    @Test("FILE_ABORT fails the file alone")
    func abort() throws {
        var machine = try Self.machine()
        _ = try machine.handle(.fileHeader(Self.header()))
        let actions = try machine.handle(.fileAbort(reason: "vanished"))
        #expect(Self.names(actions) == ["abandonFile", "acknowledge(1)"])
        #expect(machine.failed == 1 && machine.current == nil)
    }
}
