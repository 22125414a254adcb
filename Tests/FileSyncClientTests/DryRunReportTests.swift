import FileSyncCore
import Testing

@testable import FileSyncClient

@Suite("Dry run report (what the client makes of PLAN)")
struct DryRunReportTests {
    private func manifest() throws -> PackedManifest {
        var manifest = PackedManifest()
        try manifest.append(ManifestEntry(path: "docs", type: .dir, size: 0, mtimeNs: 1, mode: 0o755))
        try manifest.append(ManifestEntry(path: "docs/a.txt", type: .file, size: 7, mtimeNs: 1, mode: 0o644))
        try manifest.append(ManifestEntry(path: "b.bin", type: .file, size: 100, mtimeNs: 1, mode: 0o644))
        return manifest
    }

    private func positions(_ manifest: PackedManifest) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: manifest.indices.map { (manifest.path(at: $0), $0) })
    }

    @Test("counts each action, the files and bytes to send, and prints one padded line per entry")
    func counts() throws {
        let manifest = try manifest()
        var report = DryRunReport()
        let part = DryRunPlan(
            entries: [
                .init(path: "docs", action: .new), .init(path: "docs/a.txt", action: .new),
                .init(path: "b.bin", action: .changed), .init(path: "gone", action: .delete),
            ], final: true, omitted: 2)
        try report.add(part, manifest: manifest, positions: positions(manifest))
        #expect((report.new, report.changed, report.delete, report.deletionsOmitted) == (2, 1, 1, 2))
        #expect((report.filesToSend, report.bytesToSend) == (2, 107))
        #expect(report.lines == ["new      docs", "new      docs/a.txt", "changed  b.bin", "delete   gone"])
    }

    @Test("a PLAN naming a path the manifest does not hold (other than a deletion) is a protocol error")
    func foreignPath() throws {
        let manifest = try manifest()
        var report = DryRunReport()
        let part = DryRunPlan(entries: [.init(path: "elsewhere", action: .new)], final: true)
        #expect(throws: FileSyncError.self) { try report.add(part, manifest: manifest, positions: positions(manifest)) }
    }
}
