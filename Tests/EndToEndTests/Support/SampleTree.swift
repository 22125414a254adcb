import Foundation
import TestSupport

/// Builds source trees for the tests: nested folders, empty files and folders, unicode and spaces
/// in names, and optionally one large file. Content is deterministic for a given seed.
enum SampleTree {
    /// Creates `folders × subfolders × filesPerFolder` small files plus extras under `root`.
    @discardableResult
    static func make(
        at root: String, folders: Int = 10, subfolders: Int = 10, filesPerFolder: Int = 10,
        largeFileBytes: Int = 0, seed: UInt64 = 1
    ) throws -> Int {
        var generator = SeededGenerator(seed: seed)
        var count = 0
        for top in 0..<folders {
            for sub in 0..<subfolders {
                let folder = "\(root)/dir \(top)/sub-\(sub)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for index in 0..<filesPerFolder {
                    let name = index % 3 == 0 ? "ünïcödé ñame 日本 \(index).txt" : "file \(index).dat"
                    let size = (index + sub) % 17 == 0 ? 0 : Int(generator.next() % 6000)
                    try write(TestData.bytes(size, from: &generator), to: "\(folder)/\(name)")
                    count += 1
                }
            }
        }
        try FileManager.default.createDirectory(
            atPath: "\(root)/empty folder/nested empty", withIntermediateDirectories: true)
        try write([], to: "\(root)/empty.txt")
        count += 1
        if largeFileBytes > 0 {
            try writeLarge(largeFileBytes, to: "\(root)/large.bin", seed: seed)
            count += 1
        }
        return count
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw TestFailure("cannot create \(path)")
        }
    }

    /// A large file written 1 MiB at a time; each MiB is distinct.
    static func writeLarge(_ size: Int, to path: String, seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed &+ 99)
        var block = TestData.bytes(1 << 20, from: &generator)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TestFailure("cannot write \(path)") }
        defer { try? handle.close() }
        var written = 0
        var index: UInt64 = 0
        while written < size {
            withUnsafeBytes(of: index) { stamp in for i in 0..<8 { block[i] = stamp[i] } }
            let count = min(block.count, size - written)
            try handle.write(contentsOf: block[0..<count])
            written += count
            index += 1
        }
    }

    /// Overwrites the file at `path` in place (same inode, same size), as an editor that writes
    /// into the file would, so a reader holding it open sees the change.
    static func overwriteInPlace(_ path: String, seed: UInt64) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { throw TestFailure("cannot open \(path)") }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        var generator = SeededGenerator(seed: seed)
        var written: UInt64 = 0
        while written < size {
            let count = Int(min(UInt64(1 << 20), size - written))
            try handle.write(contentsOf: TestData.bytes(count, from: &generator))
            written += UInt64(count)
        }
    }
}
