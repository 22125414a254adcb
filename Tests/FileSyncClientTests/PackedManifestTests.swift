import FileSyncClient
import FileSyncCore
import Testing

@Suite("Packed manifest") struct PackedManifestTests {
    static func entry(_ path: String, _ type: ManifestEntry.EntryType = .file, size: Int64 = 7) -> ManifestEntry {
        ManifestEntry(
            path: path, type: type, size: type == .dir ? 0 : size, mtimeNs: -1_000_000_007, mode: 0o4755, uid: 1000,
            gid: UInt32.max)
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

@Suite("Packed manifest symlinks") struct PackedManifestSymlinkTests {
    static let link = ManifestEntry(
        path: "docs/link", type: .symlink, size: 9, mtimeNs: 42, mode: 0o777, target: "../a.txt\u{e9}", uid: 5,
        gid: 6)

    @Test("symlinks keep their target and type; they are not files; they can be left out")
    func symlinks() throws {
        var link = Self.link
        link.size = Int64(link.target!.utf8.count)
        var packed = PackedManifest()
        try packed.append(ManifestEntry(path: "docs", type: .dir, size: 0, mtimeNs: 1, mode: 0o755, uid: 0, gid: 0))
        try packed.append(link)
        try packed.append(ManifestEntry(path: "docs/z", type: .file, size: 3, mtimeNs: 1, mode: 0o644, uid: 0, gid: 0))
        var other = PackedManifest()
        try other.append(link)
        try packed.append(contentsOf: other)
        #expect(packed[1] == link && packed[3] == link)
        #expect(packed.type(at: 1) == .symlink && packed.type(at: 2) == .file)
        #expect(packed.fileCount == 1 && packed.hasSymlinks)
        #expect(packed.targetByteCount(at: 1) == link.size && packed.targetByteCount(at: 2) == 0)
        let (kept, leftOut, _) = try packed.keeping(symlinks: false, specials: true)
        #expect(kept.map(\.path) == ["docs", "docs/z"] && !kept.hasSymlinks)
        #expect(leftOut == ["docs/link", "docs/link"])
    }

    @Test("special files keep their kind and device number, and are left out for a server without specials")
    func specials() throws {
        let fifo = ManifestEntry(
            path: "a/fifo", type: .special, size: 0, mtimeNs: 5, mode: 0o600, uid: 0, gid: 0, special: .fifo)
        let disk = ManifestEntry(
            path: "a/sda", type: .special, size: 0, mtimeNs: 6, mode: 0o660, uid: 0, gid: 0, special: .block,
            device: 0x0800)
        var packed = PackedManifest()
        try packed.append(ManifestEntry(path: "a", type: .dir, size: 0, mtimeNs: 1, mode: 0o755, uid: 0, gid: 0))
        try packed.append(fifo)
        try packed.append(disk)
        #expect(packed[1] == fifo && packed[2] == disk)
        #expect(packed.type(at: 2) == .special && packed.type(at: 0) == .dir && packed.fileCount == 0)
        #expect(packed.hasSpecials && !packed.hasSymlinks)
        let (kept, _, leftOut) = try packed.keeping(symlinks: true, specials: false)
        #expect(kept.map(\.path) == ["a"] && leftOut == ["a/fifo", "a/sda"])
    }

    @Test("later names of one file become hard links to the first; without hardlinks they are files again")
    func hardLinks() throws {
        var packed = PackedManifest()
        let key = PackedManifest.LinkKey(device: 1, inode: 42)
        for path in ["a", "b", "c"] {
            try packed.append(ManifestEntry(path: path, type: .file, size: 9, mtimeNs: 1, mode: 0o644, uid: 0, gid: 0))
            if path != "b" { packed.noteLinks(key) }
        }
        packed.resolveHardLinks()
        #expect(packed.type(at: 0) == .file && packed.type(at: 1) == .file && packed.type(at: 2) == .hardlink)
        #expect(packed[2].target == "a" && packed[2].size == 0 && packed.fileCount == 2)
        let withLinks = try packed.keeping(symlinks: true, specials: true, hardlinks: true).manifest
        #expect(withLinks[2] == packed[2])
        let without = try packed.keeping(symlinks: true, specials: true, hardlinks: false).manifest
        #expect(without[2].type == .file && without[2].size == 9 && without[2].target == nil)
        #expect(without.fileCount == 3 && !without.hasHardLinks)
    }
}
