import Foundation
import NIOCore

/// Turns control messages into control frames with one reused `JSONEncoder`, and refuses any
/// message whose JSON would exceed ``ProtocolLimits/maxControlPayload``: the peer would close the
/// connection on such a frame. ``frames(_:)`` splits a `FILE_ACK` that would be too large into
/// several (results are matched by path, so any split keeps their meaning, Protocol.md §5.5). Every control frame this build writes goes through here.
public struct ControlMessageEncoder {
    private let encoder = JSONEncoder()
    /// The largest payload this encoder writes; smaller than the protocol's limit only in tests.
    public let maxPayload: Int

    public init(maxPayload: Int = ProtocolLimits.maxControlPayload) {
        self.maxPayload = maxPayload
    }

    /// The message's JSON, checked against the limit.
    public func encode(_ message: Message) throws -> Data {
        let data = try encoder.encode(message)
        guard data.count <= maxPayload else {
            throw FileSyncError(
                .limitExceeded, "\(message.kind.rawValue) message of \(data.count) bytes exceeds \(maxPayload)")
        }
        return data
    }

    /// The message as a control frame.
    public func frame(_ message: Message, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> Frame {
        Frame(kind: .control, payload: allocator.buffer(bytes: try encode(message)))
    }

    /// The message as one or more control frames: a `FILE_ACK` too large for one frame is split
    /// into several, each within the limit; any other message must fit in one.
    public func frames(_ message: Message, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> [Frame] {
        guard case .fileAck(let ack) = message else { return [try frame(message, allocator: allocator)] }
        return try ackFrames(ack.files[...], allocator: allocator)
    }

    private func ackFrames(_ files: ArraySlice<FileResult>, allocator: ByteBufferAllocator) throws -> [Frame] {
        let data = try encoder.encode(Message.fileAck(FileAck(files: Array(files))))
        if data.count <= maxPayload { return [Frame(kind: .control, payload: allocator.buffer(bytes: data))] }
        guard files.count > 1 else {
            throw FileSyncError(.limitExceeded, "one file result of \(data.count) bytes exceeds \(maxPayload)")
        }
        let middle = files.startIndex + files.count / 2
        return try ackFrames(files[..<middle], allocator: allocator) + ackFrames(files[middle...], allocator: allocator)
    }
}
