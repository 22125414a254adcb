import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// A change of mtime alone (Protocol.md §6.7): small files whose stored copy has the same size
    /// travel as deltas against it, so an unchanged content costs its chunk list, not its bytes.
    @Suite("Touch") struct TouchTests {
        @Test("touching 16 files of 256 KiB resends none of their content; the new times are stored")
        func touchOnly() throws {
            let work = try TemporaryDirectory("touch")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let names = (0..<16).map { "file\($0).bin" }
            for (index, name) in names.enumerated() {
                try SampleTree.writeLarge(256 << 10, to: source + "/" + name, seed: UInt64(index + 1))
            }
            let server = try ServerProcess(root: root, in: work)
            let first = try runClient(["--source", source, "--id", "t", "--json"] + server.connect, in: work)
            #expect(first.status == 0, "\(first.stderr)")
            let firstWire = try first.json()["bytesOnWire"] as? Int ?? 0
            #expect(firstWire > 4 << 20 - (64 << 10), "random content: \(firstWire) bytes")

            var times = [timespec(tv_sec: 1_900_000_000, tv_nsec: 123), timespec(tv_sec: 1_900_000_000, tv_nsec: 123)]
            for name in names { #expect(utimensat(AT_FDCWD, source + "/" + name, &times, 0) == 0) }
            let second = try runClient(["--source", source, "--id", "t", "--json"] + server.connect, in: work)
            #expect(second.status == 0, "\(second.stderr)")
            let wire = try second.json()["bytesOnWire"] as? Int ?? -1
            #expect(wire >= 0 && wire < 64 << 10, "\(wire) bytes on the wire for a touch of 4 MiB")
            // Per --json, no content was sent: the touches count as metadata updates.
            #expect(try second.json()["sent"] as? Int == 0, "\(second.stdout)")
            #expect(try second.json()["bytesSent"] as? Int == 0, "\(second.stdout)")
            #expect(try second.json()["metadataUpdated"] as? Int == names.count, "\(second.stdout)")

            for name in names {
                var info = stat()
                #expect(lstat(root + "/t/" + name, &info) == 0)
                #expect(info.st_mtim.tv_sec == 1_900_000_000 && info.st_mtim.tv_nsec == 123, "\(name)")
                #expect(
                    try Data(contentsOf: URL(fileURLWithPath: root + "/t/" + name))
                        == Data(contentsOf: URL(fileURLWithPath: source + "/" + name)))
            }
            // A file whose content changed too is sent (its changed chunks), not counted as metadata.
            var content = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source + "/" + names[0])))
            content[1_000] ^= 0xFF
            try Data(content).write(to: URL(fileURLWithPath: source + "/" + names[0]))
            let third = try runClient(["--source", source, "--id", "t", "--json"] + server.connect, in: work)
            #expect(try third.json()["sent"] as? Int == 1, "\(third.stdout)")
            #expect(try third.json()["metadataUpdated"] as? Int == 0, "\(third.stdout)")
        }
    }
}
