import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The history commands of `filesync-client` against one server, for the snapshot and restore tests.
struct HistoryClient {
    let server: ServerProcess
    let work: TemporaryDirectory

    /// A backup of `source` as `id`; fails the test unless it succeeds. Returns once its snapshot is
    /// recorded: the server writes it after the session, and a snapshots session of the same id waits
    /// for it (Protocol.md §11.1), so listing is the event to await.
    @discardableResult
    func backup(_ source: String, id: String, extra: [String] = []) throws -> [String: Any] {
        let result = try runClient(["--source", source, "--id", id] + server.connect + ["--json"] + extra, in: work)
        #expect(result.status == 0, "\(result.stderr)")
        _ = try snapshots(id: id)
        return try result.json()
    }

    /// `filesync-client snapshots --json`: the snapshot descriptions, oldest first.
    func snapshots(id: String) throws -> [[String: Any]] {
        let result = try runClient(["snapshots", "--id", id] + server.connect + ["--json"], in: work)
        #expect(result.status == 0, "\(result.stderr)")
        return try result.json()["snapshots"] as? [[String: Any]] ?? []
    }

    /// `filesync-client restore`, with whatever it returns.
    func restore(id: String, to folder: String, _ arguments: [String] = []) throws -> CommandResult {
        try runClient(["restore", "--id", id, "--to", folder] + server.connect + ["--json"] + arguments, in: work)
    }
}

/// Bytes allocated on disk to every file below `root` (what `du` counts), hidden state included.
func diskUsage(of root: String) -> Int64 {
    var total: Int64 = 0
    guard let walker = FileManager.default.enumerator(atPath: root) else { return 0 }
    while let relative = walker.nextObject() as? String {
        var info = stat()
        if lstat(root + "/" + relative, &info) == 0 { total += Int64(info.st_blocks) * 512 }
    }
    return total
}

/// Inverts the byte at `offset` of the file at `path`, as bit rot on the server's disk would.
func flipByte(at offset: UInt64, of path: String) throws {
    guard let handle = FileHandle(forUpdatingAtPath: path) else { throw TestFailure("cannot open \(path)") }
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    guard let byte = try handle.read(upToCount: 1)?.first else { throw TestFailure("\(path) ends before \(offset)") }
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: Data([byte ^ 0xFF]))
}

/// Overwrites every regular file below `root` with random bytes of the same size, as ransomware would.
func scramble(_ root: String, seed: UInt64) throws -> Int64 {
    var generator = SeededGenerator(seed: seed)
    var total: Int64 = 0
    guard let walker = FileManager.default.enumerator(atPath: root) else { return 0 }
    while let relative = walker.nextObject() as? String {
        let path = root + "/" + relative
        guard (try FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular
        else { continue }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        try SampleTree.write(TestData.bytes(size, from: &generator), to: path)
        total += Int64(size)
    }
    return total
}
