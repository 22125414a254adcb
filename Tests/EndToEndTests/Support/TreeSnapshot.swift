import Crypto
import Foundation

/// Every regular file of a tree by relative path with its SHA-256, and every folder.
struct TreeSnapshot: Equatable, CustomStringConvertible {
    var files: [String: String] = [:]
    var folders: Set<String> = []

    init(of root: String, ignoringSymlinks: Bool = true) throws {
        let base = URL(fileURLWithPath: root).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else {
            throw TestFailure("cannot walk \(root)")
        }
        while let relative = walker.nextObject() as? String {
            let path = base + "/" + relative
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            switch attributes[.type] as? FileAttributeType {
            case .typeRegular?: files[relative] = try Self.sha256(of: path)
            case .typeDirectory?: folders.insert(relative)
            default: continue
            }
        }
    }

    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TestFailure("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    var description: String { "\(files.count) files, \(folders.count) folders" }

    /// Paths whose presence or content differ, for readable failures.
    func differences(from other: TreeSnapshot) -> [String] {
        let paths = Set(files.keys).union(other.files.keys)
        let fileDiffs = paths.filter { files[$0] != other.files[$0] }.sorted()
        let folderDiffs = folders.symmetricDifference(other.folders).sorted().map { "folder " + $0 }
        return Array((fileDiffs + folderDiffs).prefix(20))
    }
}

/// Every path below a folder (files, folders, links), to prove nothing was written outside a root.
func listing(of root: String) -> Set<String> {
    Set((FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? [])
}
