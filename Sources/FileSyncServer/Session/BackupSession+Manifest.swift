import FileSyncCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension BackupSession {
    /// What the session keeps of the client's manifest once it is planned (the versions of the
    /// files to request are in the plan).
    struct Manifest {
        /// The path of every entry.
        var paths = PathSet()
        /// Paths equal under Unicode canonical equivalence are one path to the protocol; the packed
        /// index compares bytes, so paths beyond ASCII are also checked here, as Strings.
        var beyondASCII = Set<String>()
        /// The bytes of the files listed, and the files and bytes the tasks ask for (for the
        /// session history and the live progress; the plan's own tasks go as they are sent).
        var bytes: Int64 = 0
        var taskFiles = 0
        var taskBytes: Int64 = 0

        /// The symlinks of the manifest: nothing is planned below one.
        var symlinks = Set<String>()
        /// The entry numbers of the regular files listed so far: a hard link must name one.
        var files = EntrySet()
        /// The owners the entries claim, for the snapshot.
        var owners = ClaimedOwners()
        /// ``owners``, or `nil` when no entry had one.
        var claimedOwners: ClaimedOwners? { owners.isEmpty ? nil : owners.listing(paths) }

        /// Adds a part's entries, validated; a path listed twice (byte for byte) is a session error.
        /// A path equal to an earlier one only under Unicode normalization, or below a symlink
        /// listed earlier, is kept in the manifest (entry numbers count it) but its position in the
        /// part is returned in `collisions` with the reason, to be rejected, not planned.
        /// (Positions, not Strings: Swift compares Strings by canonical equivalence, so a set of
        /// Strings would drop the first spelling too.)
        mutating func add(
            _ entries: [ManifestEntry]
        ) throws -> (entries: [ManifestEntry], collisions: [Collision]) {
            guard entries.count <= ProtocolLimits.maxEntriesPerPart,
                paths.count + entries.count <= ProtocolLimits.maxManifestEntries
            else {
                throw FileSyncError(.limitExceeded, "the manifest exceeds the entry limits")
            }
            var validated: [ManifestEntry] = []
            var collisions: [Collision] = []
            validated.reserveCapacity(entries.count)
            for entry in entries {
                let entry = try entry.validated()
                guard try paths.insert(entry.path) else {
                    throw FileSyncError(.malformedMessage, "the manifest lists \"\(entry.path)\" twice")
                }
                owners.record(path: entry.path, uid: entry.uid, gid: entry.gid)
                if !entry.path.utf8.allSatisfy({ $0 < 0x80 }) && !beyondASCII.insert(entry.path).inserted {
                    collisions.append(Collision(position: validated.count, reason: BackupSession.collisionReason))
                } else if !symlinks.isEmpty, let link = symlink(above: entry.path) {
                    collisions.append(
                        Collision(position: validated.count, reason: "\"\(link)\" is a symlink in this manifest"))
                } else if entry.type == .hardlink, !isFile(entry.target ?? "") {
                    collisions.append(
                        Collision(
                            position: validated.count,
                            reason: "a hard link must name a regular file listed earlier in this manifest"))
                } else if let violation = entry.xattrs?.boundsViolation {
                    collisions.append(Collision(position: validated.count, reason: violation, code: .limitExceeded))
                } else if entry.type == .symlink {
                    symlinks.insert(entry.path)
                } else if entry.type == .file, let number = paths.index(of: entry.path) {
                    _ = files.insert(number)
                }
                validated.append(entry)
                bytes += entry.size
            }
            return (validated, collisions)
        }

        /// An entry kept in the manifest but rejected, not planned: its position in the part, why,
        /// and the code of its rejection.
        struct Collision {
            var position: Int
            var reason: String
            var code = FileSyncError.Code.typeConflict
        }

        /// Whether `path` is a regular file listed earlier in this manifest.
        private func isFile(_ path: String) -> Bool {
            paths.index(of: path).map { files.contains($0) } ?? false
        }

        /// The symlink of the manifest that `path` lies below, if any.
        private func symlink(above path: String) -> String? {
            var prefix = Substring(path)
            while let slash = prefix.lastIndex(of: "/") {
                prefix = prefix[..<slash]
                if symlinks.contains(String(prefix)) { return String(prefix) }
            }
            return nil
        }
    }

    /// The manifest received so far, its plan, and with tasks frames the entries requested.
    struct ManifestProgress {
        // Only the paths of all entries are kept (packed: a million cost about 30 MB rather than
        // 150 as entries). With tasks frames, each part's tasks are sent as it is planned and then
        // kept only as one bit per manifest entry (`requested`); TASKS messages need them all at the end.
        var manifest = Manifest()
        var plan = SyncPlan()
        var requested: EntrySet?
        /// Tasks frames held back until the last part, for a client that reads only then.
        var heldFrames: [Frame] = []
        var waiting = Duration.zero
        var decoding = Duration.zero
        var planning = Duration.zero
    }

    func receiveManifest(
        _ messages: inout Messages, binary: Bool, planningAgainst folder: ClientFolder, answering answer: inout Answer,
        context: SessionContext
    ) async throws -> ManifestProgress {
        var progress = ManifestProgress(requested: answer.binaryTasks ? EntrySet() : nil)
        while true {
            let started = ContinuousClock.now
            let part = try await nextManifestPart(
                &messages, binary: binary, symlinks: answer.typeChanges != .refused, xattrs: answer.xattrs,
                specials: answer.specials, hardlinks: answer.hardlinks)
            let received = ContinuousClock.now
            progress.waiting += received - started
            let firstEntry = progress.manifest.paths.count
            let (validated, collisions) = try progress.manifest.add(part.entries)
            let decoded = ContinuousClock.now
            progress.decoding += decoded - received
            var planned = validated
            for collision in collisions.reversed() { planned.remove(at: collision.position) }
            var partPlan = try await plan(planned, in: folder, answering: &answer)
            partPlan.conflicts += collisions.map {
                SyncPlan.Conflict(path: validated[$0.position].path, reason: $0.reason, code: $0.code)
            }
            progress.manifest.taskFiles += partPlan.tasks.count
            progress.manifest.taskBytes += partPlan.versions.reduce(0) { $0 + $1.size }
            if progress.requested != nil {
                let frames = try taskFrames(
                    partPlan, entries: validated, firstEntry: firstEntry, final: part.final,
                    manifest: progress.manifest, requesting: &progress.requested!)
                if answer.streamsTasks {
                    try await context.outbound.write(contentsOf: frames)
                } else {
                    progress.heldFrames += frames
                    if part.final { try await context.outbound.write(contentsOf: progress.heldFrames) }
                }
                partPlan.tasks = PlannedTasks()
                partPlan.versions = []
            }
            try progress.plan.merge(partPlan)
            progress.planning += ContinuousClock.now - decoded
            if part.final {
                logger.debug(
                    "manifest received",
                    metadata: [
                        "waited": "\(progress.waiting)", "decoded": "\(progress.decoding)",
                        "planned": "\(progress.planning)",
                    ])
                progress.heldFrames = []
                return progress
            }
        }
    }

    /// Why the second of two spellings of one name is rejected.
    static let collisionReason =
        "another spelling of this name (equal under Unicode normalization, NFC vs NFD) is earlier in the manifest"

    /// One part of the manifest: a manifest frame (with `binaryManifest`) or `CLIENT_FILES_INFO`.
    func nextManifestPart(
        _ messages: inout Messages, binary: Bool, symlinks: Bool, xattrs: Bool, specials: Bool, hardlinks: Bool
    ) async throws -> ManifestPart {
        guard let frame = try await messages.next() else {
            throw FileSyncError(.connectionClosed, "connection closed during the manifest")
        }
        return try ManifestPart(
            frame, binary: binary, symlinks: symlinks, xattrs: xattrs, specials: specials, hardlinks: hardlinks)
    }

    /// Plans one part's entries and chooses the kind of its tasks.
    private func plan(
        _ validated: [ManifestEntry], in folder: ClientFolder, answering answer: inout Answer
    ) async throws -> SyncPlan {
        // Two halves planned at once (the client only waits now): the second in a child task with
        // its own descriptors, since a ClientFolder belongs to one task.
        let middle = validated.count / 2
        let tail = Array(validated[middle...])
        let (root, id) = (settings.root, folder.id)
        let rules = Rules(
            typeChanges: answer.typeChanges, xattrs: answer.xattrs, specials: answer.specials,
            owners: settings.applyOwners && geteuid() == 0, resend: answer.resend)
        async let second = Self.plan(tail, root: root, id: id, rules: rules)
        var partPlan = try Self.plan(validated[..<middle], in: folder, rules: rules)
        try partPlan.merge(try await second)
        // What changed type goes before anything is created or asked for (Protocol.md §6.6).
        if !partPlan.removals.isEmpty { answer.remove(partPlan.removals, from: folder, logger: logger) }
        // Offering a resume hashes the partial's prefix, and offering a touched file as a delta
        // reads its stored copy, which may outlast the idle timeout.
        let hashes =
            answer.offersResumes && !partPlan.tasks.isEmpty || answer.cutsLikeClient && !partPlan.sameSize.isEmpty
        if hashes { try await setReadTimeout(nil) }
        try answer.offer(&partPlan, folder: folder)
        if hashes { try await setReadTimeout(settings.idleTimeout) }
        return partPlan
    }

    /// Plans `entries` against what `folder` holds.
    private static func plan(
        _ entries: ArraySlice<ManifestEntry>, in folder: ClientFolder, rules: Rules
    ) throws -> SyncPlan {
        try SyncPlan.plan(
            for: entries, typeChanges: rules.typeChanges, xattrs: rules.xattrs, specials: rules.specials,
            owners: rules.owners
        ) { path in
            var stored = (try? RelativePath(validating: path)).flatMap {
                folder.storedEntry(at: $0, xattrs: rules.xattrs)
            }
            // A stored file asked for again (``HardLinkAmbiguity``): no mtime matches this one.
            if stored?.type == .file, rules.resend.contains(path) { stored?.mtimeNs = .min }
            return stored
        }
    }

    /// Plans `entries` against the client folder `<root>/<id>`, opened for this call.
    private static func plan(
        _ entries: [ManifestEntry], root: String, id: ClientID, rules: Rules
    ) async throws -> SyncPlan {
        try plan(entries[...], in: try ClientFolder(root: root, id: id), rules: rules)
    }

    /// What the features in force let planning do.
    struct Rules {
        var typeChanges: SyncPlan.TypeChanges
        var xattrs: Bool
        var specials: Bool
        /// Whether the session will give entries their owners (`--apply-owners`, as root).
        var owners: Bool
        /// Stored files to ask for whatever their size and mtime say.
        var resend: Set<String> = []
    }
}
