import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

@testable import FileSyncClient

@Suite("Whole-file prefetcher")
struct WholeFilePrefetcherTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prefetch-\(UUID().uuidString)").path

    /// Writes `content` at `name` in the folder and returns its manifest entry.
    private func file(_ name: String, _ content: [UInt8]) throws -> ManifestEntry {
        let path = folder + "/" + name
        try Data(content).write(to: URL(fileURLWithPath: path))
        var info = stat()
        #expect(stat(path, &info) == 0)
        return ManifestEntry(path: name, type: .file, size: Int64(content.count), mtimeNs: info.mtimeNs, mode: 0o644)
    }

    private func frame(_ prepared: FileSender.PreparedWhole?) -> Frame? {
        if case .frame(let frame, _) = prepared { return frame }
        return nil
    }

    private func reason(_ prepared: FileSender.PreparedWhole?) -> String? {
        if case .skipped(let reason) = prepared { return reason }
        return nil
    }

    @Test("files prepared ahead on the workers are the frames the session would have built itself")
    func sameFramesAsInTurn() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = Array(String(repeating: "let value = buffer.count + offset // state\n", count: 4_000).utf8)
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let entries = [try file("text.swift", text), try file("noise.bin", noise), try file("small.txt", [1, 2, 3])]
        let prefetcher = try WholeFilePrefetcher { .zstd(try ZstdCompressor(level: 1)) }
        prefetcher.prefetch(entries) { folder + "/" + $0 }
        let inTurn = TransferFrames(compressor: .zstd(try ZstdCompressor(level: 1)))
        for entry in entries {
            let expected = frame(FileSender.prepareWhole(entry, at: folder + "/" + entry.path, frames: inTurn))
            let prepared = await prefetcher.take(entry.path)
            #expect(expected != nil)
            #expect(frame(prepared) == expected, "\(entry.path)")
        }
        // The text went compressed, the noise stored: each worker's compressor decides as the session's would.
        #expect(frame(FileSender.prepareWhole(entries[0], at: folder + "/text.swift", frames: inTurn))?.flags == .zstd)
        #expect(await prefetcher.take("text.swift") == nil, "a frame is taken once")
    }

    @Test("a file gone or changed since the scan is reported skipped, as in turn")
    func skippedAsInTurn() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let gone = try file("gone.txt", [1])
        try FileManager.default.removeItem(atPath: folder + "/gone.txt")
        var grown = try file("grown.txt", [1, 2])
        grown.size = 1
        let prefetcher = WholeFilePrefetcher { nil }
        prefetcher.prefetch([gone, grown]) { folder + "/" + $0 }
        #expect(reason(await prefetcher.take("gone.txt")) == "vanished since the scan")
        #expect(reason(await prefetcher.take("grown.txt")) == "changed since the scan; it will be sent on the next run")
    }

    @Test("at most depth files are prepared ahead; the others are left to the session")
    func boundedDepth() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let entries = try (0..<WholeFilePrefetcher.depth + 2).map { try file("f\($0)", [UInt8($0)]) }
        let prefetcher = WholeFilePrefetcher { nil }
        prefetcher.prefetch(entries) { folder + "/" + $0 }
        for entry in entries.prefix(WholeFilePrefetcher.depth) {
            #expect(frame(await prefetcher.take(entry.path)) != nil)
        }
        #expect(await prefetcher.take(entries[WholeFilePrefetcher.depth].path) == nil)
        // Taking frames makes room for the next ones.
        prefetcher.prefetch(Array(entries.suffix(2))) { folder + "/" + $0 }
        #expect(frame(await prefetcher.take(entries.last!.path)) != nil)
    }
}
