import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP server on 127.0.0.1 that records the path of every GET and answers 200: the
/// healthchecks endpoint of the `--ping-url` tests. It serves at most `limit` requests and stops
/// after `lifetime` seconds, whichever comes first.
final class PingServer {
    let port: Int
    private let fd: Int32
    private let paths = Requests()

    /// The paths received, shared with the serving thread.
    private final class Requests: Sendable {
        let list = Mutex<[String]>([])
    }

    init(limit: Int = 20, lifetime: Double = 120) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = self.fd
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw TestFailure("cannot listen on loopback") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let paths = self.paths
        let deadline = Date().addingTimeInterval(lifetime)
        // The thread ends by itself after `limit` requests or `lifetime` seconds.
        let thread = Thread {
            var served = 0
            while served < limit && Date() < deadline {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 200) > 0 else { continue }
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                served += 1
                if let path = Self.readRequestPath(client) { paths.list.withLock { $0.append(path) } }
                let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"
                _ = answer.withCString { write(client, $0, strlen($0)) }
                close(client)
            }
        }
        thread.start()
    }

    /// The paths requested so far, in order.
    var requested: [String] { paths.list.withLock { $0 } }

    var url: String { "http://127.0.0.1:\(port)/ping/abc" }

    deinit { close(fd) }

    /// The path of the request line, read with a 5 s limit.
    private static func readRequestPath(_ client: Int32) -> String? {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !received.contains(UInt8(ascii: "\n")) && received.count < 8192 {
            var descriptor = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 5000) > 0 else { return nil }
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        let line = String(decoding: received.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let parts = line.split(separator: " ")
        return parts.count >= 2 && parts[0] == "GET" ? String(parts[1]) : nil
    }
}
