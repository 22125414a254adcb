import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy on 127.0.0.1 that injects one fault per connection into the client → server
/// direction: cut after N bytes, reset after N bytes, stall, or deliver in tiny pieces.
///
/// Connection *k* gets `faults[k]`; connections beyond the list pass through untouched.
final class FaultProxy: Sendable {
    enum Fault: Sendable, CustomStringConvertible {
        case none
        /// Forward exactly `bytes`, then close both sides.
        case cut(after: Int)
        /// Forward exactly `bytes`, then reset the client's connection (RST) and close the server's.
        case reset(after: Int)
        /// Forward `bytes`, run `hook` (e.g. change a file), hold everything for `seconds`, go on.
        case stall(after: Int, seconds: Double, hook: @Sendable () -> Void)
        /// Forward in pieces of 1 to `maxPiece` bytes.
        case tinyPieces(maxPiece: Int)

        var description: String {
            switch self {
            case .none: "none"
            case .cut(let bytes): "cut after \(bytes) B"
            case .reset(let bytes): "reset after \(bytes) B"
            case .stall(let bytes, let seconds, _): "stall \(seconds) s after \(bytes) B"
            case .tinyPieces(let piece): "pieces of ≤ \(piece) B"
            }
        }
    }

    let port: Int
    private let listener: Int32
    private let upstreamPort: Int
    private let pending: Mutex<[Fault]>
    private let forwarded = Mutex(0)
    private let connections = Mutex(0)

    /// Bytes forwarded from clients to the server, over all connections.
    var bytesUpstream: Int { forwarded.withLock { $0 } }
    /// Connections accepted so far.
    var connectionCount: Int { connections.withLock { $0 } }

    init(upstreamPort: Int, faults: [Fault]) throws {
        self.upstreamPort = upstreamPort
        pending = Mutex(faults)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        Self.limitBuffers(fd)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw TestFailure("proxy cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Stops accepting; connections in progress end with their peers.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    // MARK: - Private

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// The proxy stands for a network path with modest buffering (256 KiB each way and side), so
    /// that what a cut loses is what the peers had in flight, not what the proxy's own autotuned
    /// buffers (up to tens of MiB on loopback) held.
    private static func limitBuffers(_ fd: Int32) {
        var size: Int32 = 256 << 10
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            Self.limitBuffers(server)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            connections.withLock { $0 += 1 }
            let fault = pending.withLock { $0.isEmpty ? Fault.none : $0.removeFirst() }
            let link = Link(client: client, server: server)
            Thread.detachNewThread { [self] in pumpUp(link, fault: fault) }
            Thread.detachNewThread { Self.pumpDown(link) }
        }
    }

    /// Both sockets of one proxied connection; closed when both directions are done.
    final class Link: Sendable {
        let client: Int32
        let server: Int32
        private let finished = Mutex(0)

        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }

        func shutdownBoth() {
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(server, Int32(SHUT_RDWR))
        }

        func done() {
            let last = finished.withLock {
                $0 += 1
                return $0 == 2
            }
            if last {
                close(client)
                close(server)
            }
        }
    }

    private static func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    private func pumpUp(_ link: Link, fault: Fault) {
        defer {
            link.shutdownBoth()
            link.done()
        }
        var total = 0
        var stalled = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        var random = SystemRandomNumberGenerator()
        while true {
            let count = recv(link.client, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            var chunk = buffer[0..<count]
            switch fault {
            case .cut(let limit), .reset(let limit):
                if total + count >= limit {
                    chunk = chunk.prefix(limit - total)
                    _ = Self.sendAll(link.server, chunk)
                    forwarded.withLock { $0 += chunk.count }
                    if case .reset = fault {
                        var linger = linger(l_onoff: 1, l_linger: 0)
                        setsockopt(link.client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                    }
                    return
                }
            case .stall(let limit, let seconds, let hook) where !stalled && total + count >= limit:
                let head = chunk.prefix(limit - total)
                guard Self.sendAll(link.server, head) else { return }
                forwarded.withLock { $0 += head.count }
                total += head.count
                chunk = chunk.dropFirst(head.count)
                stalled = true
                hook()
                usleep(useconds_t(seconds * 1_000_000))
            case .tinyPieces(let maxPiece):
                while !chunk.isEmpty {
                    let piece = chunk.prefix(Int.random(in: 1...maxPiece, using: &random))
                    guard Self.sendAll(link.server, piece) else { return }
                    forwarded.withLock { $0 += piece.count }
                    total += piece.count
                    chunk = chunk.dropFirst(piece.count)
                }
                continue
            default:
                break
            }
            guard Self.sendAll(link.server, chunk) else { return }
            forwarded.withLock { $0 += chunk.count }
            total += chunk.count
        }
    }

    private static func pumpDown(_ link: Link) {
        defer {
            shutdown(link.client, Int32(SHUT_WR))
            link.done()
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(link.server, &buffer, buffer.count, 0)
            guard count > 0, sendAll(link.client, buffer[0..<count]) else { return }
        }
    }
}
