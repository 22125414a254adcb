import Synchronization

/// The folders that gained a new subfolder below each client folder since their last sync: a new
/// folder's name is durable only once its parent is synced (POSIX). A session opens several
/// ``ClientFolder``s (planning, receiving, committing), so they share this record, and the batch
/// commit that makes its files durable drains it.
enum NewFolders {
    private static let pending = Mutex<[String: Set<String>]>([:])

    /// A folder was created in `parent` (a relative path, "" for the client folder itself) of the
    /// client folder at `client`.
    static func created(in parent: String, of client: String) {
        pending.withLock { _ = $0[client, default: []].insert(parent) }
    }

    /// The parents to sync for `client`, no longer recorded here.
    static func take(for client: String) -> Set<String> {
        pending.withLock { $0.removeValue(forKey: client) ?? [] }
    }

    /// Records `parents` again (their sync failed).
    static func restore(_ parents: Set<String>, for client: String) {
        pending.withLock { $0[client, default: []].formUnion(parents) }
    }
}
