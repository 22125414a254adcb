import FileSyncCore

/// The devices of a session that the server could not make in the stored tree, for lack of the
/// privilege to make one (it does not run as root, or runs in a user namespace): each is recorded in
/// the session's snapshot as the client listed it, so that a restore as root makes it again
/// (Protocol.md §6.10). A server that holds no history has nowhere to keep them and fails them.
///
/// They are the session's own: a later session that lists the device again records it again (its
/// plan finds nothing at the path), and one whose manifest does not list it records none there.
struct RecordedDevices: Sendable {
    /// One device: its name in its folder and the manifest entry that described it.
    struct Device: Sendable {
        let name: String
        let kind: SpecialKind
        let entry: ManifestEntry
    }

    /// The devices by the relative path of their folder ("" for the client's top folder).
    private var byFolder: [String: [Device]] = [:]
    /// How many devices are recorded.
    private(set) var count = 0

    /// Adds the device `entry` (a validated manifest entry of type `special`).
    mutating func add(_ entry: ManifestEntry) throws {
        let path = try RelativePath(validating: entry.path)
        guard let kind = entry.special, kind.isDevice else {
            throw FileSyncError(.internalError, "\(path) is no device")
        }
        let folder = path.parentComponents.joined(separator: "/")
        byFolder[folder, default: []].append(Device(name: String(path.lastComponent), kind: kind, entry: entry))
        count += 1
    }

    /// Whether no device is recorded.
    var isEmpty: Bool { count == 0 }

    /// The devices of the folder at `folder`.
    func devices(inFolder folder: String) -> [Device] {
        byFolder[folder] ?? []
    }

    /// The snapshot entry of `device`: its owner is the one the client claimed (the server's user's
    /// when it claimed none, as a stored node would have); nodes carry no extended attributes.
    func treeEntry(of device: Device, serverUID: UInt32, serverGID: UInt32) -> TreeEntry {
        let entry = device.entry
        return TreeEntry(
            name: device.name, mode: entry.mode & 0o7777, uid: entry.uid ?? serverUID, gid: entry.gid ?? serverGID,
            mtimeNs: entry.mtimeNs, size: 0, content: .special(device.kind, entry.device ?? 0))
    }
}
