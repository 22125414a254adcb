import FileSyncCore
import FileSyncSystem
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A server that answered `DISCOVER`.
public struct DiscoveredServer: Sendable, Hashable, Codable {
    public var name: String
    public var serverId: String
    public var host: String
    public var port: Int
    public var version: Int
    /// SHA-256 of the server's TLS certificate, as announced.
    public var fingerprint: String?

    public var endpoint: Endpoint { Endpoint(host: host, port: port) }
}

/// Finds servers by multicasting `DISCOVER` on one interface (IPv4 and IPv6) and collecting
/// unicast `OFFER`s.
///
/// Bounded: at most `attempts` queries, each followed by a listening window of
/// `timeout / attempts`; it stops after the first window that brought an answer.
public struct ServerDiscovery: Sendable {
    public var group: Endpoint
    public var interface: String
    public var timeout: Duration
    public var attempts: Int
    public var logger: Logger

    public init(group: Endpoint, interface: String, timeout: Duration, attempts: Int = 3, logger: Logger) {
        self.group = group
        self.interface = interface
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.logger = logger
    }

    /// The servers that answered, sorted by name; empty when none did. The query goes to the IPv4
    /// group when the interface has an IPv4 address and to the IPv6 link-local group
    /// (`ff02::7733`, same port) when it has an IPv6 address; the first valid OFFER ends the wait.
    /// - Parameter waitFullTime: listen for the whole timeout (to list every server) instead of
    ///   stopping after the first window with an answer.
    public func discover(waitFullTime: Bool = false) async throws -> [DiscoveredServer] {
        let ipv4 = MulticastSetup.ipv4Address(forInterface: interface)
        let ipv6 = MulticastSetup.ipv6Device(forInterface: interface)
        guard ipv4 != nil || ipv6 != nil else {
            throw FileSyncError(.invalidSetting, "no network interface is named or has the address \(interface)")
        }
        let nonce = UInt64.random(in: .min ... .max).bigEndianBytes.hexString
        let query = ByteBuffer(bytes: try DiscoveryPacket.discover(.init(nonce: nonce)).encoded())
        var links: [Link] = []
        if let ipv4 {
            let channel = try await Self.openChannel(bindHost: "0.0.0.0")
            try await MulticastSetup.configureSender(channel.channel, interface: ipv4)
            links.append(
                Link(channel: channel, group: try SocketAddress(ipAddress: group.host, port: group.port), device: nil))
        }
        if let ipv6, let channel = try? await Self.openChannel(bindHost: "::") {
            do {
                try await MulticastSetup.configureSender6(channel.channel, device: ipv6)
                let address = try SocketAddress(ipAddress: Endpoint.defaultGroup6.host, port: group.port)
                links.append(Link(channel: channel, group: address, device: ipv6))
            } catch {
                logger.debug("no IPv6 discovery", metadata: ["device": "\(ipv6.name)", "error": "\(error)"])
                try? await channel.channel.close()
            }
        }
        let found = Offers()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for link in links {
                tasks.addTask {
                    try await ask(on: link, query: query, nonce: nonce, found: found, waitFullTime: waitFullTime)
                }
            }
            try await tasks.waitForAll()
        }
        return found.servers.withLock { Array($0.values) }.sorted { ($0.name, $0.serverId) < ($1.name, $1.serverId) }
    }

    /// Sends the query on `link` up to `attempts` times, each followed by a listening window,
    /// collecting the offers (of either family) until a window ends with one.
    private func ask(on link: Link, query: ByteBuffer, nonce: String, found: Offers, waitFullTime: Bool) async throws {
        let logger = logger
        try await link.channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    do {
                        for try await envelope in inbound {
                            guard let server = link.server(from: envelope, nonce: nonce) else {
                                logger.debug("ignoring a datagram", metadata: ["from": "\(envelope.remoteAddress)"])
                                continue
                            }
                            found.servers.withLock { $0[server.serverId] = $0[server.serverId] ?? server }
                        }
                    } catch {
                        // This family's socket failed; the other may still answer.
                        logger.debug(
                            "discovery socket closed", metadata: ["group": "\(link.group)", "error": "\(error)"])
                    }
                }
                let window = timeout / attempts
                for attempt in 1...attempts {
                    logger.debug(
                        "DISCOVER",
                        metadata: [
                            "attempt": "\(attempt)/\(attempts)", "group": "\(link.group)", "interface": "\(interface)",
                        ])
                    do {
                        try await outbound.write(AddressedEnvelope(remoteAddress: link.group, data: query))
                    } catch {
                        // One family failing (no route for its group) leaves the other.
                        logger.debug("DISCOVER not sent", metadata: ["group": "\(link.group)", "error": "\(error)"])
                    }
                    try await Task.sleep(for: window)
                    if !waitFullTime && !found.servers.withLock({ $0.isEmpty }) { break }
                }
                tasks.cancelAll()
            }
        }
    }

    private static func openChannel(bindHost: String) async throws -> DatagramChannel {
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if bindHost == "::" { bootstrap = bootstrap.channelOption(MulticastSetup.ipv6Only, value: 1) }
        return try await bootstrap.bind(host: bindHost, port: 0) { channel in
            channel.eventLoop.makeCompletedFuture {
                try DatagramChannel(wrappingChannelSynchronously: channel)
            }
        }
    }

    typealias DatagramChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    /// One family's socket and group.
    private struct Link: Sendable {
        let channel: DatagramChannel
        let group: SocketAddress
        /// The IPv6 device, whose name scopes link-local answers.
        let device: NIONetworkDevice?

        /// The server an OFFER to `nonce` names, or `nil` for anything else.
        func server(from envelope: AddressedEnvelope<ByteBuffer>, nonce: String) -> DiscoveredServer? {
            guard case .offer(let offer)? = try? DiscoveryPacket(bytes: envelope.data.readableBytesView),
                offer.nonce == nonce, var host = envelope.remoteAddress.ipAddress
            else { return nil }
            if let device { host = MulticastSetup.scoped(host, device: device) }
            return DiscoveredServer(
                name: offer.name, serverId: offer.serverId, host: host, port: offer.port,
                version: offer.version, fingerprint: offer.fingerprint)
        }
    }
}

/// Offers collected while the discovery window is open.
private final class Offers: Sendable {
    let servers = Mutex<[String: DiscoveredServer]>([:])
}

extension UInt64 {
    fileprivate var bigEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * $0)) } }
}
