import NIOCore

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

/// The binary form of `FILE_ACK`: an ack frame (kind `08`), sent instead of the message when the
/// `binaryTasks` capability is in force. Results name files by manifest entry number, as tasks
/// frames do (``BinaryTasks``), and stored files come as runs of consecutive entries.
///
/// Payload, all big-endian: `u32` run count; runs of stored files (`u32` first entry, `u32` count,
/// at least 1); `u32` failure count; failures (`u32` entry, `u8` code length (1 to
/// ``maxCodeBytes``), the code (ASCII), `u16` message length (at most
/// ``BinaryTasks/maxMessageBytes``), the message (UTF-8)); nothing after.
public enum BinaryAcks {
    /// The outcome of some files.
    public struct Ack: Sendable, Equatable {
        /// Stored files, as runs of consecutive entries.
        public var stored: [Range<Int>]
        public var failed: [Failure]

        public init(stored: [Range<Int>] = [], failed: [Failure] = []) {
            self.stored = stored
            self.failed = failed
        }
    }

    /// A file that failed, and why.
    public struct Failure: Sendable, Equatable {
        public var entry: Int
        public var error: ErrorMessage

        public init(entry: Int, error: ErrorMessage) {
            self.entry = entry
            self.error = error
        }
    }

    /// Error codes are at most this long.
    public static let maxCodeBytes = 64
    /// At most this many runs per frame (the server splits larger acks).
    public static let maxRuns = 100_000
    /// At most this many failures per frame: with the longest codes and messages, under 11 MB.
    public static let maxFailures = 10_000

    /// The ack for `results`, each with its manifest entry; stored entries in any order. Splits
    /// into several acks past ``maxRuns`` runs or ``maxFailures`` failures.
    public static func acks(for results: [(entry: Int, result: FileResult)]) -> [Ack] {
        let stored = results.filter { $0.result.succeeded }.map(\.entry).sorted()
        var runs: [Range<Int>] = []
        for entry in stored {
            if let last = runs.last, last.upperBound == entry {
                runs[runs.count - 1] = last.lowerBound..<entry + 1
            } else {
                runs.append(entry..<entry + 1)
            }
        }
        let failed = results.compactMap { item in
            item.result.error.map { Failure(entry: item.entry, error: $0) }
        }
        var acks: [Ack] = []
        var (runIndex, failureIndex) = (0, 0)
        repeat {
            let runEnd = min(runs.count, runIndex + maxRuns)
            let failureEnd = min(failed.count, failureIndex + maxFailures)
            acks.append(Ack(stored: Array(runs[runIndex..<runEnd]), failed: Array(failed[failureIndex..<failureEnd])))
            (runIndex, failureIndex) = (runEnd, failureEnd)
        } while runIndex < runs.count || failureIndex < failed.count
        return acks
    }

    /// The frame payload of `ack`.
    public static func encode(_ ack: Ack) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 8 + ack.stored.count * 8 + ack.failed.count * 96)
        buffer.writeInteger(UInt32(ack.stored.count))
        for run in ack.stored {
            buffer.writeInteger(UInt32(run.lowerBound))
            buffer.writeInteger(UInt32(run.count))
        }
        buffer.writeInteger(UInt32(ack.failed.count))
        for failure in ack.failed {
            let code = Array(failure.error.code.utf8.prefix(maxCodeBytes))
            let message = BinaryTasks.truncated(failure.error.message)
            buffer.writeInteger(UInt32(failure.entry))
            buffer.writeInteger(UInt8(code.count))
            buffer.writeBytes(code)
            buffer.writeInteger(UInt16(message.count))
            buffer.writeBytes(message)
        }
        return buffer
    }

    /// Decodes one ack frame. Whether the entries were asked for is for the receiver to check.
    ///
    /// - Throws: `malformedFrame` for anything that does not follow the format: an empty run, more
    ///   than ``maxRuns`` runs or ``maxFailures`` failures, a code that is empty, too long or not ASCII, a message
    ///   too long or not UTF-8, truncation, trailing bytes.
    public static func decode(_ payload: ByteBuffer) throws -> Ack {
        var buffer = payload
        guard let runCount = buffer.readInteger(as: UInt32.self), runCount <= maxRuns else {
            throw FileSyncError(.malformedFrame, "an ack frame has a bad run count")
        }
        var ack = Ack()
        ack.stored.reserveCapacity(Int(runCount))
        for _ in 0..<runCount {
            guard let first = buffer.readInteger(as: UInt32.self), let count = buffer.readInteger(as: UInt32.self),
                count >= 1
            else {
                throw FileSyncError(.malformedFrame, "an ack frame has a bad run")
            }
            ack.stored.append(Int(first)..<Int(first) + Int(count))
        }
        guard let failureCount = buffer.readInteger(as: UInt32.self), failureCount <= maxFailures else {
            throw FileSyncError(.malformedFrame, "an ack frame has a bad failure count")
        }
        for _ in 0..<failureCount {
            guard let entry = buffer.readInteger(as: UInt32.self),
                let codeLength = buffer.readInteger(as: UInt8.self), codeLength >= 1, codeLength <= maxCodeBytes,
                let code = buffer.readBytes(length: Int(codeLength)), code.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
                let messageLength = buffer.readInteger(as: UInt16.self),
                messageLength <= BinaryTasks.maxMessageBytes,
                let bytes = buffer.readBytes(length: Int(messageLength)),
                let message = String(validating: bytes, as: UTF8.self)
            else {
                throw FileSyncError(.malformedFrame, "an ack frame has a bad failure")
            }
            ack.failed.append(
                Failure(
                    entry: Int(entry),
                    error: ErrorMessage(code: String(decoding: code, as: UTF8.self), message: message)))
        }
        guard buffer.readableBytes == 0 else {
            throw FileSyncError(.malformedFrame, "an ack frame has \(buffer.readableBytes) bytes after its failures")
        }
        return ack
    }
}
