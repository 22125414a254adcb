/// A control message: one JSON object in a control frame, told apart by its `"type"` field.
///
/// Unknown fields are ignored (so later versions can add fields); an unknown `"type"` is an error.
/// See Protocol.md, "Messages".
public enum Message: Sendable, Equatable {
    case hello(Hello)
    case challenge(Challenge)
    case auth(Auth)
    case ready(Ready)
    case queued(Queued)
    case filesInfo(FilesInfo)
    case tasks(Tasks)
    case fileHeader(FileHeader)
    case fileEnd(FileEnd)
    case fileAbort(FileAbort)
    case chunkNeed(ChunkNeed)
    case fileAck(FileAck)
    case done(Done)
    case nextSync(NextSync)
    case error(ErrorMessage)

    /// The value of the `"type"` field for each message.
    public enum Kind: String, Codable, Sendable {
        case hello = "HELLO"
        case challenge = "CHALLENGE"
        case auth = "AUTH"
        case ready = "READY"
        case queued = "QUEUED"
        case filesInfo = "CLIENT_FILES_INFO"
        case tasks = "TASKS"
        case fileHeader = "FILE_HEADER"
        case fileEnd = "FILE_END"
        case fileAbort = "FILE_ABORT"
        case chunkNeed = "CHUNK_NEED"
        case fileAck = "FILE_ACK"
        case done = "DONE"
        case nextSync = "NEXT_SYNC"
        case error = "ERROR"
    }

    public var kind: Kind {
        switch self {
        case .hello: .hello
        case .challenge: .challenge
        case .auth: .auth
        case .ready: .ready
        case .queued: .queued
        case .filesInfo: .filesInfo
        case .tasks: .tasks
        case .fileHeader: .fileHeader
        case .fileEnd: .fileEnd
        case .fileAbort: .fileAbort
        case .chunkNeed: .chunkNeed
        case .fileAck: .fileAck
        case .done: .done
        case .nextSync: .nextSync
        case .error: .error
        }
    }
}

// MARK: - Session setup

/// Capabilities a peer may announce in `HELLO` and `READY`; the session uses their intersection.
public enum Capability {
    /// Data frames may carry the `deflated` flag.
    public static let deflate = "deflate"
    /// The server may send `resume` tasks, and `FILE_HEADER` may carry an `offset`.
    public static let resume = "resume"
    /// The server may send `chunked` and `delta` tasks; `CHUNK_LIST`, `CHUNK` frames and
    /// `CHUNK_NEED` messages are allowed.
    public static let chunks = "chunks"
    /// Data and chunk frames may carry the `zstd` flag. A client that has both `zstd` and
    /// `deflate` in force uses zstd.
    public static let zstd = "zstd"
    /// The client sends its manifest as manifest frames (``BinaryManifest``) instead of
    /// `CLIENT_FILES_INFO` messages.
    public static let binaryManifest = "binaryManifest"
    /// The client may send a file of at most 1 MiB as one file frame (``WholeFile``) instead of
    /// `FILE_HEADER`, data frames and `FILE_END`.
    public static let fileFrames = "fileFrames"
    /// The server sends its task list as tasks frames (``BinaryTasks``) instead of `TASKS` messages.
    public static let binaryTasks = "binaryTasks"
    /// With ``binaryTasks``: the server answers each manifest part with its tasks frames as soon as
    /// the part is planned, and the client keeps reading while it sends its manifest.
    public static let tasksPerPart = "tasksPerPart"
    /// Every capability this build understands.
    public static let all: Set<String> = [
        deflate, resume, chunks, zstd, binaryManifest, fileFrames, binaryTasks, tasksPerPart,
    ]
}

/// Client → server, first message of every session.
public struct Hello: Codable, Sendable, Equatable {
    /// The highest protocol version the client speaks.
    public var version: Int
    /// The lowest protocol version the client accepts.
    public var minVersion: Int
    public var clientId: String
    public var capabilities: [String]
    /// Whether files the server holds but the manifest lacks are deleted at the end (`--delete`).
    public var mirrorDeletions: Bool
    /// Free-form software name and version, for logs.
    public var software: String?
    /// 64 hex digits, fresh for this session: the client's half of the authentication challenge.
    public var clientNonce: String?

    public init(
        version: Int = ProtocolLimits.version, minVersion: Int = ProtocolLimits.minimumVersion, clientId: String,
        capabilities: [String], mirrorDeletions: Bool = false, software: String? = nil, clientNonce: String? = nil
    ) {
        self.version = version
        self.minVersion = minVersion
        self.clientId = clientId
        self.capabilities = capabilities
        self.mirrorDeletions = mirrorDeletions
        self.software = software
        self.clientNonce = clientNonce
    }
}

/// Server → client, after `HELLO`: the server's nonce and its proof that it knows the secret.
public struct Challenge: Codable, Sendable, Equatable {
    /// 64 hex digits, fresh for this session.
    public var serverNonce: String
    /// HMAC-SHA256(secret, "filesync-server-v1", clientNonce, serverNonce, clientId), hex.
    public var serverProof: String

    public init(serverNonce: String, serverProof: String) {
        self.serverNonce = serverNonce
        self.serverProof = serverProof
    }
}

/// Client → server, after `CHALLENGE`: the client's proofs, and its own key sealed for binding.
public struct Auth: Codable, Sendable, Equatable {
    /// HMAC-SHA256(secret, "filesync-client-v1", clientNonce, serverNonce, clientId), hex.
    public var proof: String
    /// HMAC-SHA256(clientKey, "filesync-key-v1", clientNonce, serverNonce, clientId), hex.
    public var keyProof: String
    /// The 32-byte client key XOR HMAC-SHA256(secret, "filesync-enroll-v1", ...), hex; used only
    /// the first time the server sees this client id.
    public var sealedKey: String

    public init(proof: String, keyProof: String, sealedKey: String) {
        self.proof = proof
        self.keyProof = keyProof
        self.sealedKey = sealedKey
    }
}

/// Server → client: the session may proceed with the manifest.
public struct Ready: Codable, Sendable, Equatable {
    /// The protocol version chosen for this session.
    public var version: Int
    public var serverId: String
    public var serverName: String
    /// Capabilities both sides have.
    public var capabilities: [String]
    /// The server's limits, so a client can size its parts and frames.
    public var limits: Limits

    public struct Limits: Codable, Sendable, Equatable {
        public var maxControlPayload: Int
        public var maxDataPayload: Int
        public var maxEntriesPerPart: Int
        public var maxManifestEntries: Int
        public var maxPathBytes: Int

        public static let current = Limits(
            maxControlPayload: ProtocolLimits.maxControlPayload, maxDataPayload: ProtocolLimits.maxDataPayload,
            maxEntriesPerPart: ProtocolLimits.maxEntriesPerPart,
            maxManifestEntries: ProtocolLimits.maxManifestEntries, maxPathBytes: ProtocolLimits.maxPathBytes)
    }

    public init(version: Int, serverId: String, serverName: String, capabilities: [String], limits: Limits = .current) {
        self.version = version
        self.serverId = serverId
        self.serverName = serverName
        self.capabilities = capabilities
        self.limits = limits
    }
}

/// Server → client: another client is backing up; wait. Repeated when the position changes and as a keepalive.
public struct Queued: Codable, Sendable, Equatable {
    /// 1 means next in line.
    public var position: Int
    /// The client may consider the connection dead if no message arrives for three times this long.
    public var keepaliveSeconds: Int

    public init(position: Int, keepaliveSeconds: Int) {
        self.position = position
        self.keepaliveSeconds = keepaliveSeconds
    }
}

// MARK: - Manifest and tasks

/// Client → server, one part of the manifest. The last part has `final` set.
public struct FilesInfo: Codable, Sendable, Equatable {
    public var entries: [ManifestEntry]
    public var final: Bool

    public init(entries: [ManifestEntry], final: Bool) {
        self.entries = entries
        self.final = final
    }
}

/// Server → client, one part of the task list. The last part has `final` set.
public struct Tasks: Codable, Sendable, Equatable {
    public var tasks: [TransferTask]
    /// Manifest entries the server cannot store (e.g. it holds a folder where the client has a file).
    public var rejected: [FileResult]?
    public var final: Bool

    public init(tasks: [TransferTask], rejected: [FileResult]? = nil, final: Bool) {
        self.tasks = tasks
        self.rejected = rejected
        self.final = final
    }
}

// MARK: - File transfer

/// Client → server: the data frames that follow are the content of this file, from `offset` on.
public struct FileHeader: Codable, Sendable, Equatable {
    public var path: String
    public var size: Int64
    public var mtimeNs: Int64
    public var mode: UInt32
    /// With the `resume` capability: the data starts at this byte, continuing the server's partial
    /// copy (must equal the offset of the `resume` task). Absent means 0.
    public var offset: Int64?
    /// How the content follows: absent for data frames; `"chunked"` or `"delta"` (the task's kind)
    /// for `CHUNK` frames, the latter after `CHUNK_LIST` rounds.
    public var transfer: TransferTask.Kind?

    public init(
        path: String, size: Int64, mtimeNs: Int64, mode: UInt32, offset: Int64? = nil,
        transfer: TransferTask.Kind? = nil
    ) {
        self.path = path
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
        self.offset = offset
        self.transfer = transfer
    }
}

/// Server → client, in a delta transfer: which chunks of the `CHUNK_LIST` frame just received the
/// server lacks, as `[first, count]` index ranges into that list, ascending and disjoint. The
/// client sends exactly those chunks, in order, as `CHUNK` frames.
public struct ChunkNeed: Codable, Sendable, Equatable {
    public var ranges: [[Int]]

    public init(ranges: [[Int]]) { self.ranges = ranges }

    /// Builds the ranges from one flag per list entry.
    public init(needed: [Bool]) {
        var ranges: [[Int]] = []
        var index = 0
        while index < needed.count {
            if needed[index] {
                let first = index
                while index < needed.count && needed[index] { index += 1 }
                ranges.append([first, index - first])
            } else {
                index += 1
            }
        }
        self.ranges = ranges
    }

    /// One flag per entry of a list of `count` entries; throws on ranges that are malformed,
    /// overlapping, out of order or out of bounds.
    public func needed(count: Int) throws -> [Bool] {
        var flags = [Bool](repeating: false, count: count)
        var next = 0
        for range in ranges {
            guard range.count == 2, range[0] >= next, range[1] >= 1, range[1] <= count - range[0] else {
                throw FileSyncError(.malformedMessage, "CHUNK_NEED range \(range) is invalid for \(count) chunks")
            }
            for index in range[0]..<(range[0] + range[1]) { flags[index] = true }
            next = range[0] + range[1]
        }
        return flags
    }
}

/// Client → server: the file is complete; `sha256` is the lowercase hex digest of its content,
/// or for chunked and delta transfers the ``ChunkListDigest`` of its chunks.
public struct FileEnd: Codable, Sendable, Equatable {
    public var sha256: String
    public init(sha256: String) { self.sha256 = sha256 }
}

/// Client → server: the file being sent is abandoned (it changed or became unreadable while being read).
public struct FileAbort: Codable, Sendable, Equatable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// Server → client: the outcome of files sent so far, once each is durably stored or has failed.
///
/// Successes are acknowledged in batches after a filesystem sync, failures as soon as they are
/// known, so results may arrive in a different order than the files were sent.
public struct FileAck: Codable, Sendable, Equatable {
    public var files: [FileResult]
    public init(files: [FileResult]) { self.files = files }
}

/// The outcome of one file: stored (`error` absent) or failed.
public struct FileResult: Codable, Sendable, Equatable {
    public var path: String
    public var error: ErrorMessage?

    public init(path: String, error: ErrorMessage? = nil) {
        self.path = path
        self.error = error
    }

    public var succeeded: Bool { error == nil }
}

/// Client → server: every task has been sent or abandoned.
public struct Done: Codable, Sendable, Equatable {
    public init() {}
}

/// Server → client, last message: when to back up again, as a delay (never a wall-clock time).
public struct NextSync: Codable, Sendable, Equatable {
    public var afterSeconds: Int
    /// Files stored in this session.
    public var stored: Int
    /// Files that failed in this session.
    public var failed: Int
    /// Entries deleted because of `mirrorDeletions`.
    public var deleted: Int
    /// Set when deletions were requested but not carried out, with the reason.
    public var deletionsSkipped: String?

    public init(afterSeconds: Int, stored: Int, failed: Int, deleted: Int, deletionsSkipped: String? = nil) {
        self.afterSeconds = afterSeconds
        self.stored = stored
        self.failed = failed
        self.deleted = deleted
        self.deletionsSkipped = deletionsSkipped
    }
}

/// Either direction: something went wrong. As a message on its own it ends the session.
public struct ErrorMessage: Codable, Sendable, Equatable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: FileSyncError) {
        self.init(code: error.code.rawValue, message: error.message)
    }
}
