import Foundation
import NIOCore

extension Message: Codable {
    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let kind = try container.decode(Kind.self, forKey: .type)
        switch kind {
        case .hello: self = .hello(try Hello(from: decoder))
        case .challenge: self = .challenge(try Challenge(from: decoder))
        case .auth: self = .auth(try Auth(from: decoder))
        case .ready: self = .ready(try Ready(from: decoder))
        case .queued: self = .queued(try Queued(from: decoder))
        case .filesInfo: self = .filesInfo(try FilesInfo(from: decoder))
        case .tasks: self = .tasks(try Tasks(from: decoder))
        case .fileHeader: self = .fileHeader(try FileHeader(from: decoder))
        case .fileEnd: self = .fileEnd(try FileEnd(from: decoder))
        case .fileAbort: self = .fileAbort(try FileAbort(from: decoder))
        case .chunkNeed: self = .chunkNeed(try ChunkNeed(from: decoder))
        case .fileAck: self = .fileAck(try FileAck(from: decoder))
        case .done: self = .done(try Done(from: decoder))
        case .nextSync: self = .nextSync(try NextSync(from: decoder))
        case .error: self = .error(try ErrorMessage(from: decoder))
        case .snapshots: self = .snapshots(try Snapshots(from: decoder))
        case .restore: self = .restore(try Restore(from: decoder))
        case .restoreList: self = .restoreList(try RestoreList(from: decoder))
        case .restoreWant: self = .restoreWant(try RestoreWant(from: decoder))
        case .restoreEnd: self = .restoreEnd(try RestoreEnd(from: decoder))
        case .plan: self = .plan(try DryRunPlan(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(kind, forKey: .type)
        switch self {
        case .hello(let body): try body.encode(to: encoder)
        case .challenge(let body): try body.encode(to: encoder)
        case .auth(let body): try body.encode(to: encoder)
        case .ready(let body): try body.encode(to: encoder)
        case .queued(let body): try body.encode(to: encoder)
        case .filesInfo(let body): try body.encode(to: encoder)
        case .tasks(let body): try body.encode(to: encoder)
        case .fileHeader(let body): try body.encode(to: encoder)
        case .fileEnd(let body): try body.encode(to: encoder)
        case .fileAbort(let body): try body.encode(to: encoder)
        case .chunkNeed(let body): try body.encode(to: encoder)
        case .fileAck(let body): try body.encode(to: encoder)
        case .done(let body): try body.encode(to: encoder)
        case .nextSync(let body): try body.encode(to: encoder)
        case .error(let body): try body.encode(to: encoder)
        case .snapshots(let body): try body.encode(to: encoder)
        case .restore(let body): try body.encode(to: encoder)
        case .restoreList(let body): try body.encode(to: encoder)
        case .restoreWant(let body): try body.encode(to: encoder)
        case .restoreEnd(let body): try body.encode(to: encoder)
        case .plan(let body): try body.encode(to: encoder)
        }
    }
}

// MARK: - Frames

extension Message {
    /// Encodes the message as a control frame with a new ``ControlMessageEncoder`` (reuse one when
    /// sending many).
    public func frame(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> Frame {
        try ControlMessageEncoder().frame(self, allocator: allocator)
    }

    /// Decodes a control frame with a new decoder; see ``MessageDecoder`` to reuse one.
    public init(frame: Frame) throws {
        self = try MessageDecoder().decode(frame)
    }
}

/// Decodes control frames with one reused `JSONDecoder` (creating one per message is measurable
/// when a session carries tens of thousands of files).
public struct MessageDecoder {
    private let decoder = JSONDecoder()

    public init() {}

    /// Decodes a control frame. A data frame is an `unexpectedMessage` error; invalid JSON, unknown
    /// types and missing fields are a `malformedMessage` error.
    public func decode(_ frame: Frame) throws -> Message {
        guard frame.kind == .control else {
            throw FileSyncError(.unexpectedMessage, "a data frame arrived where a control message was expected")
        }
        do {
            return try frame.payload.withUnsafeReadableBytes { bytes in
                try decoder.decode(Message.self, from: Data(bytes))
            }
        } catch let error as DecodingError {
            throw FileSyncError(.malformedMessage, "cannot decode control message: \(error.shortDescription)")
        }
    }
}

extension DecodingError {
    /// A one-line account of what was wrong, without dumping the payload.
    public var shortDescription: String {
        switch self {
        case .dataCorrupted(let context): "invalid JSON (\(context.debugDescription))"
        case .keyNotFound(let key, _): "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        @unknown default: "invalid message"
        }
    }
}
