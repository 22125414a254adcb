import FileSyncCore

@testable import FileSyncClient

/// A small manifest: `docs` (folder, entry 0), `docs/a.txt` (1), `docs/b.txt` (2), `pics` (3),
/// `c.bin` (4), `d.bin` (5); five files, as in Protocol.md's tasks-frame example plus one.
enum Fixtures {
    static let manifest: PackedManifest = {
        var manifest = PackedManifest()
        let entries = [
            ManifestEntry(path: "docs", type: .dir, size: 0, mtimeNs: 1, mode: 0o755),
            ManifestEntry(path: "docs/a.txt", type: .file, size: 10, mtimeNs: 1, mode: 0o644),
            ManifestEntry(path: "docs/b.txt", type: .file, size: 20, mtimeNs: 1, mode: 0o644),
            ManifestEntry(path: "pics", type: .file, size: 30, mtimeNs: 1, mode: 0o644),
            ManifestEntry(path: "c.bin", type: .file, size: 40, mtimeNs: 1, mode: 0o644),
            ManifestEntry(path: "d.bin", type: .file, size: 50, mtimeNs: 1, mode: 0o644),
        ]
        for entry in entries { try! manifest.append(entry) }
        return manifest
    }()

    /// Every feature but ``SessionFeatures/binaryTasks`` and ``SessionFeatures/tasksPerPart``: the
    /// JSON task and ack path of a minimal server.
    static let jsonFeatures = SessionFeatures.all.subtracting([.binaryTasks, .tasksPerPart])
}
