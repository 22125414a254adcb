import FileSyncCore
import Foundation
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in for a server of an earlier release, on 127.0.0.1 without TLS, for one connection: it
/// answers HELLO and AUTH as a real server does (it knows `secret`) and sends READY with the
/// client's capabilities minus `withheld` (what that release does not know), then only records the
/// frames the client sends until it closes. It stores nothing, so what it records is all a client
/// would have made an older server do.
final class OlderServer: Sendable {
    let port: Int
    let secret: [UInt8]
    private let listener: Int32
    private let state = Mutex(Recorded())
    private let finished = DispatchSemaphore(value: 0)

    struct Recorded: Sendable {
        var hello: Hello?
        /// The kinds of the frames after AUTH.
        var framesAfterAuth: [Frame.Kind] = []
    }

    init(withholding withheld: Set<String>) throws {
        secret = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw TestFailure("the older server cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in serveOne(withholding: withheld) }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// What the client did, once it closed the connection (at most `timeout` seconds).
    func recorded(timeout: Double = 30) throws -> Recorded {
        guard finished.wait(timeout: .now() + timeout) == .success else {
            throw TestFailure("the client did not close its connection to the older server")
        }
        return state.withLock { $0 }
    }

    private func serveOne(withholding withheld: Set<String>) {
        defer { finished.signal() }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reader = FrameReader(fd: fd)
        guard let first = reader.next(), case .hello(let hello)? = try? Message(frame: first),
            let clientNonce = hello.clientNonce
        else { return }
        state.withLock { $0.hello = hello }
        let serverNonce = Authenticator.nonce()
        let proof = Authenticator(secret: secret).serverProof(
            clientNonce: clientNonce, serverNonce: serverNonce, clientID: hello.clientId)
        send(.challenge(Challenge(serverNonce: serverNonce, serverProof: proof)), to: fd)
        guard let auth = reader.next(), case .auth? = try? Message(frame: auth) else { return }
        let kept = hello.capabilities.filter { !withheld.contains($0) }
        send(.ready(Ready(version: 1, serverId: "older", serverName: "older", capabilities: kept)), to: fd)
        while let frame = reader.next() { state.withLock { $0.framesAfterAuth.append(frame.kind) } }
    }

    private func send(_ message: Message, to fd: Int32) {
        var out = ByteBuffer()
        guard let frame = try? message.frame() else { return }
        out.writeFrame(frame)
        let bytes = Array(out.readableBytesView)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Frames from a blocking socket; `nil` at its end or on an error.
    private struct FrameReader {
        let fd: Int32
        var buffer = ByteBuffer()
        var decoder = FrameDecoder()

        mutating func next() -> Frame? {
            while true {
                do {
                    if let frame = try decoder.decode(buffer: &buffer) { return frame }
                } catch {
                    return nil
                }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let count = recv(fd, &chunk, chunk.count, 0)
                guard count > 0 else { return nil }
                buffer.writeBytes(chunk[0..<count])
            }
        }
    }
}
