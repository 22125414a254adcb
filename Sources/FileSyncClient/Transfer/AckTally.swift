import FileSyncCore

/// What the server's acknowledgements say about the files of one session (Protocol.md §5.5):
/// stored entries, and why the others failed. `FILE_ACK` messages (the minimal-client path, no
/// `binaryTasks`) name paths; ack frames name entry numbers.
struct AckTally {
    let manifest: PackedManifest
    /// Entries the server says it stored.
    private(set) var stored = EntrySet()
    /// Why files failed, by path; a reason known before (a skip, a rejection) is kept.
    private(set) var failed: [String: String]

    init(manifest: PackedManifest, failed: [String: String] = [:]) {
        self.manifest = manifest
        self.failed = failed
    }

    /// Tallies `FILE_ACK` results; `tasks` are the runs asked for, which paths are matched against.
    mutating func record(_ results: [FileResult], tasks: [BinaryTasks.Run]) {
        guard !results.isEmpty else { return }
        var positions: [String: Int] = [:]
        for run in tasks { for entry in run.entries { positions[manifest.path(at: entry)] = entry } }
        for result in results {
            if let error = result.error {
                if failed[result.path] == nil { failed[result.path] = error.message }
            } else if let entry = positions[result.path] {
                stored.insert(entry)
            }
        }
    }

    /// Tallies ack frames; an entry outside the manifest is a protocol error.
    mutating func record(_ acks: [BinaryAcks.Ack]) throws {
        for ack in acks {
            for run in ack.stored {
                guard run.upperBound <= manifest.count else {
                    throw FileSyncError(.unexpectedMessage, "the server acknowledged entries it never asked for")
                }
                for entry in run { stored.insert(entry) }
            }
            for failure in ack.failed {
                guard failure.entry < manifest.count else {
                    throw FileSyncError(.unexpectedMessage, "the server acknowledged an entry it never asked for")
                }
                let path = manifest.path(at: failure.entry)
                if failed[path] == nil { failed[path] = failure.error.message }
            }
        }
    }
}
