import FileSyncCore
import FileSyncSystem
import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A hand-driven protocol client over a blocking socket, for sessions a real client would never
/// produce: hostile ids and paths, transfers cut in the middle.
final class RawConnection {
    private let fd: Int32
    private var buffer = ByteBuffer()
    private var decoder = FrameDecoder()

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw TestFailure("connect failed: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    func send(_ message: Message) throws {
        var out = ByteBuffer()
        out.writeFrame(try message.frame())
        try sendRaw(Array(out.readableBytesView))
    }

    func sendData(_ bytes: [UInt8]) throws {
        var out = ByteBuffer()
        out.writeFrame(Frame(kind: .data, payload: ByteBuffer(bytes: bytes)))
        try sendRaw(Array(out.readableBytesView))
    }

    /// Sends each of `paths` with `content` as FILE_HEADER, one data frame and FILE_END, then DONE;
    /// returns the ack frames that come before the next frame of another kind (NEXT_SYNC).
    func sendFilesThenDone(_ paths: [String], content: [UInt8] = Array("data".utf8)) throws -> [BinaryAcks.Ack] {
        let sha256 = content.withUnsafeBytes { ChunkHash(of: $0) }.description
        for path in paths {
            try send(.fileHeader(FileHeader(path: path, size: Int64(content.count), mtimeNs: 1, mode: 0o644)))
            try sendData(content)
            try send(.fileEnd(FileEnd(sha256: sha256)))
        }
        try send(.done(Done()))
        var acks: [BinaryAcks.Ack] = []
        while let frame = try receiveFrame(), frame.kind == .ack { acks.append(try BinaryAcks.decode(frame.payload)) }
        return acks
    }

    /// Sends `content` as one file frame (stored, unless `flags` say it is compressed), claiming
    /// `sha256` (the hash of `content` by default).
    func sendWholeFile(
        _ path: String, _ content: [UInt8], size: Int64? = nil, sha256: ChunkHash? = nil, flags: Frame.Flags = []
    ) throws {
        let payload = content.withUnsafeBytes {
            WholeFile.payload(
                path: path, size: size ?? Int64(content.count), mtimeNs: 1, mode: 0o644,
                sha256: sha256 ?? ChunkHash(of: $0), content: $0)
        }
        var out = ByteBuffer()
        out.writeFrame(Frame(kind: .file, flags: flags, payload: payload))
        try sendRaw(Array(out.readableBytesView))
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw TestFailure("send failed: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// The next control message, or `nil` when the server closed the connection.
    func receive() throws -> Message? {
        try receiveFrame().map { try Message(frame: $0) }
    }

    /// The next frame, or `nil` when the server closed the connection.
    func receiveFrame() throws -> Frame? {
        while true {
            if let frame = try decoder.decode(buffer: &buffer) { return frame }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count == 0 { return nil }
            guard count > 0 else {
                if errno == ECONNRESET { return nil }
                throw TestFailure("recv failed: \(String(cString: strerror(errno)))")
            }
            buffer.writeBytes(chunk[0..<count])
        }
    }

    /// HELLO, CHALLENGE and AUTH as a real client would do them, with the client key a real client
    /// of `folder` uses for `id`; the server's answer (READY, QUEUED or ERROR) is left to read.
    func authenticate(
        id: String, server: ServerProcess, folder: TemporaryDirectory, capabilities: [String] = [],
        session: Hello.SessionKind? = nil, mirrorDeletions: Bool = false, keepingExcluded: Bool? = nil
    ) throws {
        let clientNonce = Authenticator.nonce()
        try send(
            .hello(
                .init(
                    clientId: id, capabilities: capabilities, mirrorDeletions: mirrorDeletions,
                    clientNonce: clientNonce,
                    session: session, mirrorDeletionsKeepingExcluded: keepingExcluded)))
        guard case .challenge(let challenge)? = try receive() else { throw TestFailure("no CHALLENGE") }
        let authenticator = Authenticator(secret: server.secret)
        let key = try KeyFile.loadOrCreate(folder.path + "/config/filesync/keys/\(id).key").key
        let nonces = (clientNonce, challenge.serverNonce)
        try send(
            .auth(
                Auth(
                    proof: authenticator.clientProof(clientNonce: nonces.0, serverNonce: nonces.1, clientID: id),
                    keyProof: Authenticator.keyProof(
                        clientKey: key, clientNonce: nonces.0, serverNonce: nonces.1, clientID: id),
                    sealedKey: authenticator.sealedClientKey(
                        key, clientNonce: nonces.0, serverNonce: nonces.1, clientID: id))))
    }

    /// Skips QUEUED messages and returns the next other one.
    func receiveSkippingQueue() throws -> Message? {
        while let message = try receive() {
            if case .queued = message { continue }
            return message
        }
        return nil
    }
}
