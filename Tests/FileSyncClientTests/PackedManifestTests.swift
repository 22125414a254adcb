import FileSyncClient
import FileSyncCore
import Testing

@Suite("Packed manifest") struct PackedManifestTests {
    static func entry(_ path: String, _ type: ManifestEntry.EntryType = .file, size: Int64 = 7) -> ManifestEntry {
        ManifestEntry(path: path, type: type, size: type == .dir ? 0 : size, mtimeNs: -1_000_000_007, mode: 0o4755)
    }

    @Test("entries read back exactly as added, in order, with their type, size, time and mode")
    func roundTrip() throws {
        let entries = [
            Self.entry("docs", .dir), Self.entry("docs/a.txt", size: 0),
            Self.entry("docs/ünïcødé 文件.bin", size: 1 << 40),
            Self.entry(String(repeating: "x", count: 4000)),
        ]
        var packed = PackedManifest()
        for entry in entries { try packed.append(entry) }
        #expect(Array(packed) == entries)
        #expect(packed.fileCount == 3)
        #expect(packed.pathByteCount(at: 2) == "docs/ünïcødé 文件.bin".utf8.count)
        #expect(Array(packed[1..<3]) == Array(entries[1..<3]))
    }

    @Test("appending another manifest keeps both in order")
    func appendContents() throws {
        var first = PackedManifest()
        var second = PackedManifest()
        try first.append(Self.entry("a"))
        try second.append(Self.entry("b", .dir))
        try second.append(Self.entry("b/c"))
        try first.append(contentsOf: second)
        #expect(first.map(\.path) == ["a", "b", "b/c"])
        #expect(first.fileCount == 2)
        #expect(first[1].type == .dir)
    }

}
