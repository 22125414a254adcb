import FileSyncCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// `--ping-url URL`, the healthchecks.io convention: `URL/start` before a run, `URL` after a
/// success, `URL/<exit code>` after a failure. Each ping is one HTTP GET with a 10 s limit; a ping
/// that fails is logged and never fails the backup. Only the URL the user gave is contacted.
public struct HealthPing: Sendable {
    public let scheme: String
    public let host: String
    public let port: Int
    /// The URL's path as written (percent-encoded), without a trailing slash.
    public let path: String
    /// The URL's query as written, without its `?`; every ping carries it (healthchecks.io's
    /// `?create=1`, `?rid=…`).
    public let query: String?
    let logger: Logger
    /// How long one ping may take, connection included.
    static let timeout = Duration.seconds(10)

    /// `nil` unless `url` is an http or https URL with a host.
    public init?(url: String, logger: Logger) {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            let host = parsed.host, !host.isEmpty, let encoded = parsed.encodedHost
        else { return nil }
        self.scheme = scheme
        // An IPv6 literal without its brackets (its zone decoded); a name in its ASCII (punycode)
        // form, as DNS, the Host header and TLS want it.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : encoded
        port = parsed.port ?? (scheme == "https" ? 443 : 80)
        var path = parsed.percentEncodedPath.isEmpty ? "/" : parsed.percentEncodedPath
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.path = path
        query = parsed.percentEncodedQuery.flatMap { $0.isEmpty ? nil : $0 }
        self.logger = logger
    }

    /// The request target of `URL/suffix` (`URL` itself when `suffix` is empty), query kept.
    public func target(_ suffix: String) -> String {
        let path = suffix.isEmpty ? path : (path == "/" ? "/" : path + "/") + suffix
        return query.map { path + "?" + $0 } ?? path
    }

    /// The `Host` header: brackets around an IPv6 address, the port unless it is the scheme's.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (scheme == "https" ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Pings `URL/suffix` (`URL` itself when `suffix` is empty); never throws.
    public func ping(_ suffix: String) async {
        let target = target(suffix)
        do {
            let status = try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask { try await request(target) }
                group.addTask {
                    try await Task.sleep(for: Self.timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let status else {
                return logger.warning("ping timed out", metadata: ["url": "\(describe(target))"])
            }
            if !(200..<300).contains(status) {
                logger.warning("ping answered \(status)", metadata: ["url": "\(describe(target))"])
            }
        } catch {
            let reason = ConnectionFailure.describe(error, target: "\(host):\(port)")
            logger.warning("ping failed", metadata: ["url": "\(describe(target))", "error": "\(reason)"])
        }
    }

    private func describe(_ target: String) -> String { "\(scheme)://\(hostHeader)\(target)" }

    /// One GET of `target`: the status code of the answer.
    private func request(_ target: String) async throws -> Int {
        let tls = scheme == "https" ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let host = self.host
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: host))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let text =
            "GET \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: filesync-client/\(FileSyncVersion.string)\r\n"
            + "Connection: close\r\n\r\n"
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: text))
            var received = [UInt8]()
            for try await var buffer in inbound {
                received += buffer.readBytes(length: buffer.readableBytes) ?? []
                if received.contains(UInt8(ascii: "\n")) || received.count > 4096 { break }
            }
            let line = String(
                decoding: received.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
                throw FileSyncError(.malformedMessage, "not an HTTP answer: \(line.prefix(80))")
            }
            return status
        }
    }
}
