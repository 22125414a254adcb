import NIOCore

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

/// The binary form of a `TASKS` part: a tasks frame (kind `07`), sent instead of the `TASKS`
/// message when the `binaryTasks` capability is in force. Tasks name manifest entries by their
/// position in the manifest, and consecutive entries with the same kind of task form one run, so a
/// first backup of a million files is asked for in a few kilobytes, and neither side parses JSON.
///
/// Payload, all big-endian: `u8` flags (bit 0: final part; the others 0); `u32` run count; the
/// runs; `u32` rejection count; the rejections; nothing after. A run: `u8` kind (0 full, 1 resume,
/// 2 chunked, 3 delta), `u32` first entry, `u32` entry count (at least 1; exactly 1 for resume),
/// and for resume only `i64` offset and the 32-byte SHA-256 of the prefix. A rejection: `u32`
/// entry, `u16` message length (at most ``maxMessageBytes``), the message (UTF-8).
public enum BinaryTasks {
    /// Consecutive manifest entries that get the same kind of task.
    public struct Run: Sendable, Equatable {
        /// The position of the first entry in the manifest (from 0, over all parts, folders included).
        public var first: Int
        /// How many entries, from `first` on.
        public var count: Int
        public var kind: TransferTask.Kind
        /// `resume` only (a run of one): the bytes the server holds.
        public var offset: Int64?
        /// `resume` only: their SHA-256, lowercase hex.
        public var prefixSha256: String?

        public init(
            first: Int, count: Int = 1, kind: TransferTask.Kind, offset: Int64? = nil, prefixSha256: String? = nil
        ) {
            self.first = first
            self.count = count
            self.kind = kind
            self.offset = offset
            self.prefixSha256 = prefixSha256
        }

        /// The entries of the run.
        public var entries: Range<Int> { first..<first + count }

        /// The task for the entry at `path`, one of this run's.
        public func task(path: String) -> TransferTask {
            TransferTask(path: path, kind: kind, offset: offset, prefixSha256: prefixSha256)
        }
    }

    /// A manifest entry the server cannot store, and why.
    public struct Rejection: Sendable, Equatable {
        public var entry: Int
        public var message: String

        public init(entry: Int, message: String) {
            self.entry = entry
            self.message = message
        }
    }

    /// One part: runs in manifest order, rejections, and whether it is the last.
    public struct Part: Sendable, Equatable {
        public var runs: [Run]
        public var rejected: [Rejection]
        public var final: Bool

        public init(runs: [Run], rejected: [Rejection] = [], final: Bool) {
            self.runs = runs
            self.rejected = rejected
            self.final = final
        }

        /// Tasks in the part: the entries of all runs.
        public var taskCount: Int { runs.reduce(0) { $0 + $1.count } }
    }

    /// At most this many tasks (entries of runs) and this many runs per part.
    public static let maxTasksPerPart = ProtocolLimits.maxTasksPerPart
    /// At most this many rejections per part.
    public static let maxRejectionsPerPart = 1_000
    /// Longer rejection messages are cut (on a character boundary) to at most this many bytes.
    public static let maxMessageBytes = 1_024

    /// The kinds by their code.
    public static let kinds: [TransferTask.Kind] = [.full, .resume, .chunked, .delta]

    // MARK: - Parts

    /// The parts that ask for `tasks`, each with the position of its entry in the manifest, in
    /// ascending order; `rejected` goes in the first parts. Always at least one part.
    public static func parts(tasks: [(entry: Int, task: TransferTask)], rejected: [Rejection]) -> [Part] {
        var builder = PartBuilder()
        for (entry, task) in tasks { builder.append(entry: entry, task: task) }
        return builder.parts(rejected: rejected)
    }

    /// Builds the parts of a task list one task at a time, in ascending entry order.
    public struct PartBuilder {
        private var parts: [Part] = []
        private var runs: [Run] = []
        private var count = 0

        public init() {}

        /// Adds the task for entry `entry`, which comes after every entry added before.
        public mutating func append(entry: Int, task: TransferTask) {
            if count == maxTasksPerPart {
                parts.append(Part(runs: runs, final: false))
                runs = []
                count = 0
            }
            if task.kind != .resume, let last = runs.last, last.kind == task.kind, last.first + last.count == entry {
                runs[runs.count - 1].count += 1
            } else {
                runs.append(Run(first: entry, kind: task.kind, offset: task.offset, prefixSha256: task.prefixSha256))
            }
            count += 1
        }

        /// The parts, with `rejected` in the first ones; the last is marked final if `final`.
        public func parts(rejected: [Rejection], final: Bool = true) -> [Part] {
            var parts = self.parts + [Part(runs: runs, final: false)]
            var remaining = rejected[...]
            var index = 0
            while !remaining.isEmpty {
                if index == parts.count { parts.append(Part(runs: [], final: false)) }
                parts[index].rejected = Array(remaining.prefix(maxRejectionsPerPart))
                remaining = remaining.dropFirst(maxRejectionsPerPart)
                index += 1
            }
            parts[parts.count - 1].final = final
            return parts
        }
    }

    // MARK: - Encoding

    /// The frame payload of `part`.
    public static func encode(_ part: Part) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 9 + part.runs.count * 9 + part.rejected.count * 64)
        buffer.writeInteger(UInt8(part.final ? 1 : 0))
        buffer.writeInteger(UInt32(part.runs.count))
        for run in part.runs {
            buffer.writeInteger(UInt8(kinds.firstIndex(of: run.kind) ?? 0))
            buffer.writeInteger(UInt32(run.first))
            buffer.writeInteger(UInt32(run.count))
            if run.kind == .resume {
                buffer.writeInteger(run.offset ?? 0)
                let prefix = run.prefixSha256.flatMap { [UInt8](hex: $0) } ?? []
                buffer.writeBytes(prefix.count == ChunkHash.byteCount ? prefix : [UInt8](repeating: 0, count: 32))
            }
        }
        buffer.writeInteger(UInt32(part.rejected.count))
        for rejection in part.rejected {
            let message = truncated(rejection.message)
            buffer.writeInteger(UInt32(rejection.entry))
            buffer.writeInteger(UInt16(message.count))
            buffer.writeBytes(message)
        }
        return buffer
    }

    /// Decodes one part. Whether its entries exist, are files and come after the previous part's
    /// is for the receiver, who holds the manifest, to check.
    ///
    /// - Throws: `malformedFrame` for anything that does not follow the format: bad flags, an
    ///   unknown kind, an empty run, a resume run of more than one entry or with an offset below 1,
    ///   more than ``maxTasksPerPart`` tasks or ``maxRejectionsPerPart`` rejections, a message over
    ///   ``maxMessageBytes`` or not UTF-8, truncation, trailing bytes.
    public static func decode(_ payload: ByteBuffer) throws -> Part {
        var buffer = payload
        guard let flags = buffer.readInteger(as: UInt8.self), flags & ~1 == 0,
            let runCount = buffer.readInteger(as: UInt32.self), runCount <= maxTasksPerPart
        else {
            throw FileSyncError(.malformedFrame, "a tasks frame has a bad header")
        }
        var runs: [Run] = []
        runs.reserveCapacity(Int(runCount))
        var tasks = 0
        for _ in 0..<runCount {
            guard let code = buffer.readInteger(as: UInt8.self), Int(code) < kinds.count,
                let first = buffer.readInteger(as: UInt32.self),
                let count = buffer.readInteger(as: UInt32.self), count >= 1, count <= maxTasksPerPart - tasks
            else {
                throw FileSyncError(.malformedFrame, "a tasks frame has a bad run")
            }
            var run = Run(first: Int(first), count: Int(count), kind: kinds[Int(code)])
            if run.kind == .resume {
                guard count == 1, let offset = buffer.readInteger(as: Int64.self), offset >= 1,
                    let prefix = buffer.readBytes(length: ChunkHash.byteCount)
                else {
                    throw FileSyncError(.malformedFrame, "a tasks frame has a bad resume run")
                }
                run.offset = offset
                run.prefixSha256 = prefix.hexString
            }
            tasks += Int(count)
            runs.append(run)
        }
        guard let rejectedCount = buffer.readInteger(as: UInt32.self), rejectedCount <= maxRejectionsPerPart else {
            throw FileSyncError(.malformedFrame, "a tasks frame has a bad rejection count")
        }
        var rejected: [Rejection] = []
        for _ in 0..<rejectedCount {
            guard let entry = buffer.readInteger(as: UInt32.self),
                let length = buffer.readInteger(as: UInt16.self), length <= maxMessageBytes,
                let bytes = buffer.readBytes(length: Int(length)),
                let message = String(validating: bytes, as: UTF8.self)
            else {
                throw FileSyncError(.malformedFrame, "a tasks frame has a bad rejection")
            }
            rejected.append(Rejection(entry: Int(entry), message: message))
        }
        guard buffer.readableBytes == 0 else {
            throw FileSyncError(.malformedFrame, "a tasks frame has \(buffer.readableBytes) bytes after its rejections")
        }
        return Part(runs: runs, rejected: rejected, final: flags & 1 == 1)
    }

    /// The UTF-8 of `message`, cut to at most ``maxMessageBytes`` on a character boundary.
    static func truncated(_ message: String) -> [UInt8] {
        var bytes = Array(message.utf8)
        guard bytes.count > maxMessageBytes else { return bytes }
        var end = maxMessageBytes
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        bytes.removeSubrange(end...)
        return bytes
    }
}
