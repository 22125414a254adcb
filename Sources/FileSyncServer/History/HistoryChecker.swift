import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Verifies a client's history: for every snapshot, that every tree object is present, intact and
/// decodable and that every chunk of every file has a source; with `readData`, that every chunk
/// reads back and hashes to what the snapshot says, and that every pack hashes to its name and
/// every packed chunk to its hash (a damaged pack is reported even while a plain file still covers
/// its chunks).
struct HistoryChecker {
    let store: HistoryStore

    /// One problem found.
    struct Damage: Sendable, Equatable, CustomStringConvertible {
        /// The snapshot affected; `nil` for a pack or a snapshot file that cannot be read.
        var snapshotID: String?
        /// The path in the snapshot (`""` for the root), or the damaged file in the history folder.
        var path: String
        var problem: String

        var description: String { "\(snapshotID ?? "-") \"\(path)\": \(problem)" }
    }

    /// Everything damaged; empty when the history is sound.
    func check(readData: Bool) throws -> [Damage] {
        let (records, unreadable) = try store.snapshots()
        var damage = unreadable.map { Damage(snapshotID: nil, path: "snapshots/" + $0, problem: "unreadable") }
        if readData { damage += checkPacks() }
        var sound: Set<ChunkHash> = []
        for record in records {
            guard let root = record.rootTreeHash else {
                damage.append(Damage(snapshotID: record.id, path: "", problem: "malformed root tree hash"))
                continue
            }
            var walk = Walk(checker: self, snapshotID: record.id, readData: readData)
            walk.folder(root, path: "", sound: &sound)
            damage += walk.damage
        }
        return damage
    }

    /// Each pack: its bytes hash to its name, its footer reads, each chunk hashes to its key.
    func checkPacks() -> [Damage] {
        var damage: [Damage] = []
        for name in PackIndex.packNames(in: store.packsPath).sorted() {
            let path = "packs/" + name
            let fd = open(store.packsPath + "/" + name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                damage.append(Damage(snapshotID: nil, path: path, problem: "cannot be opened"))
                continue
            }
            defer { close(fd) }
            if !PackReader.verifyName(of: fd, name: name) {
                damage.append(Damage(snapshotID: nil, path: path, problem: "its bytes do not hash to its name"))
            }
            guard let entries = try? PackReader.entries(of: fd) else {
                damage.append(Damage(snapshotID: nil, path: path, problem: "its footer is malformed"))
                continue
            }
            for entry in entries {
                let bytes = try? PackReader.read(fd, at: entry.offset, count: entry.length)
                if bytes?.withUnsafeBytes({ ChunkHash(of: $0) }) != entry.hash {
                    damage.append(
                        Damage(
                            snapshotID: nil, path: path, problem: "chunk \(entry.hash) at \(entry.offset) is damaged"))
                }
            }
        }
        return damage
    }

    /// The walk of one snapshot's trees.
    private struct Walk {
        let checker: HistoryChecker
        let snapshotID: String
        let readData: Bool
        var damage: [Damage] = []

        mutating func folder(_ hash: ChunkHash, path: String, sound: inout Set<ChunkHash>) {
            let tree: TreeObject
            do {
                tree = try checker.store.tree(hash)
            } catch {
                damage.append(Damage(snapshotID: snapshotID, path: path, problem: "tree \(hash): \(error)"))
                return
            }
            for entry in tree.entries {
                let relative = path.isEmpty ? entry.name : path + "/" + entry.name
                switch entry.content {
                case .folder(let child):
                    // A subtree found sound in an earlier snapshot is sound here too (same hash),
                    // except for plain-file chunks, which the data check reads again.
                    if readData || !sound.contains(child) { folder(child, path: relative, sound: &sound) }
                case .file(let file): self.file(file, path: relative)
                case .symlink, .special: break
                }
            }
            if damage.isEmpty { sound.insert(hash) }
        }

        private mutating func file(_ file: FileContent, path: String) {
            let resolver = ContentResolver(store: checker.store)
            do {
                let missing: [ContentResolver.MissingChunk]
                if readData {
                    missing = try resolver.forEachChunk(of: file, at: path) { _, _ in }
                } else {
                    missing = try resolver.missingChunks(of: file, at: path)
                }
                for chunk in missing {
                    damage.append(
                        Damage(
                            snapshotID: snapshotID, path: path,
                            problem: "chunk \(chunk.index) (\(chunk.hash)) at offset \(chunk.offset) is missing"))
                }
            } catch {
                damage.append(Damage(snapshotID: snapshotID, path: path, problem: "\(error)"))
            }
        }
    }
}
