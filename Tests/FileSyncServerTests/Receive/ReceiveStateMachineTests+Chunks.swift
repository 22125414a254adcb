import FileSyncCore
import Testing

@testable import FileSyncServer

extension ReceiveStateMachineTests {
    // MARK: - Chunked and delta transfers

    @Test("a delta transfer that was never offered")
    func unofferedDelta() throws {
        var machine = try Self.machine()
        Self.expectViolation(.unexpectedMessage, .fileHeader(Self.header(size: 100, transfer: .delta)), on: &machine)
    }

    @Test("a delta task may be streamed as chunked, a chunked one never as delta")
    func transferKinds() throws {
        var delta = try Self.machine(chunkTasks: ["f": .delta])
        #expect(Self.names(try delta.handle(.fileHeader(Self.header(transfer: .chunked)))) == ["openChunked(chunked)"])
        var chunked = try Self.machine(chunkTasks: ["f": .chunked])
        Self.expectViolation(.unexpectedMessage, .fileHeader(Self.header(transfer: .delta)), on: &chunked)
    }

    @Test("a chunk frame and a chunk list outside any chunked transfer")
    func chunksOutsideTransfer() throws {
        var machine = try Self.machine()
        Self.expectViolation(.unexpectedMessage, .chunk, on: &machine)
        Self.expectViolation(.unexpectedMessage, .chunkList, on: &machine)
        _ = try machine.handle(.fileHeader(Self.header()))
        Self.expectViolation(.unexpectedMessage, .chunk, on: &machine)
        Self.expectViolation(.unexpectedMessage, .chunkList, on: &machine)
    }

    @Test("a data frame during a chunked transfer")
    func dataInChunkedTransfer() throws {
        var machine = try Self.machine(chunkTasks: ["f": .chunked])
        _ = try machine.handle(.fileHeader(Self.header(transfer: .chunked)))
        Self.expectViolation(.unexpectedMessage, .data, on: &machine)
        #expect(Self.names(try machine.handle(.chunk)) == ["acceptChunk"])
        #expect(Self.names(try machine.handle(.fileEnd)) == ["finishAssembly"])
        #expect(Self.names(try machine.handle(.patched(FileResult(path: "f")))) == ["acknowledge(1)"])
        #expect(machine.stored == 1)
    }

    // MARK: - File frames

    @Test("a file frame without fileFrames negotiated")
    func fileFrameUnnegotiated() throws {
        var machine = try Self.machine()
        Self.expectViolation(.unexpectedMessage, .fileFrame, on: &machine)
    }

    @Test("a file frame in the middle of a file, and the same file frame twice")
    func fileFrameOutOfOrder() throws {
        var machine = try Self.machine(["f", "g"], fileFrames: true)
        #expect(Self.names(try machine.handle(.fileFrame)) == ["decodeWholeFile"])
        #expect(Self.names(try machine.handle(.wholeFile(Self.header()))) == ["storeWholeFile"])
        Self.expectViolation(.unexpectedMessage, .wholeFile(Self.header()), on: &machine)
        _ = try machine.handle(.fileHeader(Self.header("g")))
        Self.expectViolation(.unexpectedMessage, .fileFrame, on: &machine)
    }

    // MARK: - Commit batches

    @Test("a batch commits when full, or early when the committer is idle; the next waits for the last")
    func batching() throws {
        let policy = CommitPolicy(maxFiles: 300, maxBytes: 1 << 40, maxUnnamed: 2)
        var machine = try Self.machine((0..<600).map { "f\($0)" }, fileFrames: true, policy: policy)
        for index in 0..<2 {
            _ = try machine.handle(.fileFrame)
            #expect(Self.names(try machine.handle(.wholeFile(Self.header("f\(index)")))) == ["storeWholeFile(unnamed)"])
            _ = try machine.handle(.queued(bytes: 4, unnamed: true))
        }
        #expect(!machine.holdsNextUnnamed)
        #expect(Self.names(try machine.handle(.settled(committerIdle: false))) == ["commitPending"])
        _ = try machine.handle(.commitStarted)
        // While that batch commits, files wait: not yet CommitPolicy.eagerFiles of them...
        for index in 2..<(2 + CommitPolicy.eagerFiles) {
            _ = try machine.handle(.fileHeader(Self.header("f\(index)")))
            _ = try machine.handle(.fileEnd)
            _ = try machine.handle(.queued(bytes: 4, unnamed: false))
            if index < 1 + CommitPolicy.eagerFiles {
                #expect(try machine.handle(.settled(committerIdle: false)).isEmpty)
            }
        }
        // ...then as many: still nothing while the committer is busy, a batch once it is idle.
        #expect(try machine.handle(.settled(committerIdle: false)).isEmpty)
        #expect(Self.names(try machine.handle(.settled(committerIdle: true))) == ["awaitCommit", "commitPending"])
    }
}
