/// The owners (numeric uid and gid) a client's manifest gave its entries, for the snapshot of the
/// session: a snapshot records the client's owners, not those of the stored copies, which belong
/// to the server's user unless it runs as root with `--apply-owners` (Protocol.md §6.9). A restore
/// as root then puts them back, whichever way the server stored them.
///
/// Kept small for a million entries: the owner of the first entry is the usual one, and only the
/// paths with another owner are listed. A path the manifest does not list keeps the owner its
/// previous snapshot recorded (or the stored one).
struct ClaimedOwners: Sendable {
    /// A numeric owner.
    struct Owner: Sendable, Equatable {
        let uid: UInt32
        let gid: UInt32
    }

    private var usual: Owner?
    private var others: [String: Owner] = [:]
    /// The manifest's paths, once complete (``listing(_:)``): a path it does not list (kept on the
    /// server in archive mode, or excluded) has no claimed owner.
    private var listed: PathSet?

    /// Records the owner of `path`; entries without one (a client without `"metadata"`) add nothing.
    mutating func record(path: String, uid: UInt32?, gid: UInt32?) {
        guard let uid, let gid else { return }
        let owner = Owner(uid: uid, gid: gid)
        guard let usual else {
            self.usual = owner
            return
        }
        if owner != usual { others[path] = owner }
    }

    /// Whether any entry had an owner.
    var isEmpty: Bool { usual == nil }

    /// These owners, for the manifest whose paths are `paths`.
    func listing(_ paths: PathSet) -> ClaimedOwners {
        var owners = self
        owners.listed = paths
        return owners
    }

    /// The owner the manifest gave `path`: its own, or the usual one; `nil` for a path the manifest
    /// did not list, or when no entry had an owner.
    func owner(of path: String) -> Owner? {
        guard listed?.contains(path) ?? true else { return nil }
        return others[path] ?? usual
    }
}
