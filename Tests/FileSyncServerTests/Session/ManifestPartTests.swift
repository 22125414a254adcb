import FileSyncCore
import NIOCore
import Testing

@testable import FileSyncServer

/// The manifest-form rule on its own, for the manifest cases of the hostile corpus
/// (Tests/EndToEndTests/HostileCorpusTests.swift, HostileSessionTests.swift).
@Suite("Manifest parts") struct ManifestPartTests {
    static func entry(_ path: String) -> ManifestEntry {
        ManifestEntry(path: path, type: .file, size: 4, mtimeNs: 1, mode: 0o644)
    }

    static func binaryFrame(_ paths: [String], final: Bool) -> Frame {
        Frame(kind: .manifest, payload: BinaryManifest.encode(paths.map(entry), final: final))
    }

    static func jsonFrame(_ paths: [String], final: Bool) throws -> Frame {
        try Message.filesInfo(FilesInfo(entries: paths.map(entry), final: final)).frame()
    }

    static func expectRefused(
        _ code: FileSyncError.Code, _ frame: Frame, binary: Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let part = try ManifestPart(frame, binary: binary)
            Issue.record("accepted \(part.entries.map(\.path))", sourceLocation: sourceLocation)
        } catch let error as FileSyncError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("each form is read when it is the one in force")
    func formsInForce() throws {
        let binary = try ManifestPart(Self.binaryFrame(["a", "b"], final: false), binary: true)
        #expect(binary.entries.map(\.path) == ["a", "b"] && !binary.final)
        let json = try ManifestPart(try Self.jsonFrame(["c"], final: true), binary: false)
        #expect(json.entries.map(\.path) == ["c"] && json.final)
    }

    @Test("a binary manifest without binaryManifest negotiated")
    func binaryWithoutNegotiation() {
        Self.expectRefused(.unexpectedMessage, Self.binaryFrame(["../../etc/x"], final: true), binary: false)
    }

    @Test("a manifest that mixes a binary part and a JSON part: the JSON part is refused")
    func mixedForms() throws {
        let first = try ManifestPart(Self.binaryFrame(["a"], final: false), binary: true)
        #expect(first.entries.map(\.path) == ["a"])
        Self.expectRefused(.unexpectedMessage, try Self.jsonFrame(["b"], final: true), binary: true)
    }

    @Test("another message, or a frame of another kind, where a manifest part is due")
    func notAManifestPart() throws {
        Self.expectRefused(.unexpectedMessage, try Message.done(Done()).frame(), binary: false)
        Self.expectRefused(.unexpectedMessage, Frame(kind: .data, payload: ByteBuffer(bytes: [1])), binary: true)
    }

    @Test("a malformed part of the form in force")
    func malformed() {
        Self.expectRefused(
            .malformedMessage, Frame(kind: .control, payload: ByteBuffer(string: "{not json")), binary: false)
    }
}
