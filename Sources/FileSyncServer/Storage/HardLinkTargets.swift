/// What a session knows of its hard links' targets when it makes the links (Protocol.md §6.11):
/// which of them its tasks asked for, and which of those it stored.
struct HardLinkTargets: Sendable {
    var requested: Set<String> = []
    var stored: Set<String> = []

    /// How a link to a target is made.
    enum Check: Sendable, Equatable {
        /// The session stored the target: it holds the content the client's file has now.
        case stored
        /// The tasks asked for the target and it was not stored: it holds an older version, and
        /// no link is made to it.
        case notStored
        /// The target was current by its size and mtime: a regular file the link would replace
        /// with the same size and mtime is compared with it first (one of them may be stale).
        case compareReplaced
    }

    /// The check for a link to `target`.
    func check(_ target: String) -> Check {
        guard requested.contains(target) else { return .compareReplaced }
        return stored.contains(target) ? .stored : .notStored
    }
}

/// A hard link not made: the regular file it would replace and its target have the same size and
/// mtime but not the same content, so one of them is stale and the stored copies cannot tell which.
/// The target is asked for again at the next backup.
struct HardLinkAmbiguity: Error, Sendable {
    let path: String
    let target: String
}
