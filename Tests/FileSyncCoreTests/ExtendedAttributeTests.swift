import FileSyncCore
import Foundation
import NIOCore
import Testing

/// Extended attributes of manifest entries (`xattrs`, Protocol.md §6.9).
@Suite("Extended attributes") struct ExtendedAttributeTests {
    static let entry = ManifestEntry(
        path: "a.txt", type: .file, size: 1, mtimeNs: 5, mode: 0o644, uid: 1, gid: 2,
        xattrs: [
            ExtendedAttribute(name: "system.posix_acl_access", value: [2, 0, 0, 0, 1, 0, 6, 0]),
            ExtendedAttribute(name: "user.note", value: Array("hi".utf8)),
        ])

    @Test(
        "attributes round-trip in a manifest frame with xattrs, with their exact layout; without it they are not sent")
    func binaryRoundTrip() throws {
        let payload = BinaryManifest.encode([Self.entry], final: true, metadata: true, xattrs: true)
        #expect(try BinaryManifest.decode(payload, metadata: true, xattrs: true).entries == [Self.entry])
        var bytes = payload
        bytes.moveReaderIndex(forwardBy: 5 + 1 + 2 + 2 + 5 + 8 + 8 + 2 + 4 + 4)
        #expect(bytes.readInteger(as: UInt16.self) == 2)  // count
        #expect(bytes.readInteger(as: UInt8.self) == 23)  // "system.posix_acl_access"
        bytes.moveReaderIndex(forwardBy: 23)
        #expect(bytes.readInteger(as: UInt32.self) == 8)
        let without = BinaryManifest.encode([Self.entry], final: true, metadata: true)
        #expect(try BinaryManifest.decode(without, metadata: true).entries == [Self.entry.withoutXattrs])
        // The frame of one form is not the other's: decoding it as xattrs leaves bytes or truncates.
        #expect(throws: FileSyncError.self) { try BinaryManifest.decode(payload, metadata: true) }
    }

    @Test("JSON carries values as base64")
    func json() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(Self.entry.xattrs![1])
        #expect(String(decoding: data, as: UTF8.self) == #"{"name":"user.note","value":"aGk="}"#)
        #expect(try JSONDecoder().decode(ExtendedAttribute.self, from: data) == Self.entry.xattrs![1])
        let bad = Data(#"{"name":"user.note","value":"*"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ExtendedAttribute.self, from: bad) }
    }

    @Test("bounds: a 10 MB value, too many, too much in all, a name not kept, each named in the reason")
    func bounds() {
        #expect(Self.entry.xattrs!.boundsViolation == nil)
        let huge = [ExtendedAttribute(name: "user.huge", value: [UInt8](repeating: 0, count: 10_000_000))]
        #expect(huge.boundsViolation?.contains("user.huge has 10000000 bytes") == true)
        let many = (0..<65).map { ExtendedAttribute(name: "user.\($0)", value: []) }
        #expect(many.boundsViolation?.contains("65 extended attributes") == true)
        let large = (0..<5).map { ExtendedAttribute(name: "user.\($0)", value: [UInt8](repeating: 1, count: 60_000)) }
        #expect(large.boundsViolation?.contains("at most 262144") == true)
        #expect([ExtendedAttribute(name: "trusted.x", value: [])].boundsViolation?.contains("trusted.x") == true)
    }

    @Test("form: names sorted and distinct, not on symlinks (malformedMessage)")
    func form() throws {
        var entry = Self.entry
        entry.xattrs!.reverse()
        #expect(throws: FileSyncError.self) { try entry.validated() }
        entry.xattrs = [ExtendedAttribute(name: "user.a", value: []), ExtendedAttribute(name: "user.a", value: [])]
        #expect(throws: FileSyncError.self) { try entry.validated() }
        let link = ManifestEntry(
            path: "l", type: .symlink, size: 1, mtimeNs: 1, mode: 0o777, target: "x",
            xattrs: [ExtendedAttribute(name: "user.a", value: [])])
        #expect(throws: FileSyncError.self) { try link.validated() }
        #expect(try Self.entry.validated() == Self.entry)
    }

    @Test("xattrs is in force only with metadata")
    func negotiation() {
        let both = SessionFeatures.negotiate(client: ["metadata", "xattrs"], server: SessionFeatures.all.capabilities)
        #expect(both.contains(.xattrs))
        let alone = SessionFeatures.negotiate(client: ["xattrs"], server: SessionFeatures.all.capabilities)
        #expect(!alone.contains(.xattrs))
        let old = SessionFeatures.negotiate(client: ["metadata", "xattrs"], server: ["metadata"])
        #expect(old == .metadata)
    }
}
