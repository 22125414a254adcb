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

/// Finds servers by multicasting `DISCOVER` on one interface and collecting unicast `OFFER`s.
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

    /// The servers that answered, sorted by name; empty when none did.
    /// - Parameter waitFullTime: listen for the whole timeout (to list every server) instead of
    ///   stopping after the first window with an answer.
    public func discover(waitFullTime: Bool = false) async throws -> [DiscoveredServer] {
        let groupAddress = try SocketAddress(ipAddress: group.host, port: group.port)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "0.0.0.0", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let nonce = UInt64.random(in: .min ... .max).bigEndianBytes.hexString
        let query = ByteBuffer(bytes: try DiscoveryPacket.discover(.init(nonce: nonce)).encoded())
        let found = Offers()
        let logger = logger

        try await channel.executeThenClose { inbound, outbound in
            try await MulticastSetup.configureSender(channel.channel, interface: interface)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for try await envelope in inbound {
                        guard case .offer(let offer)? = try? DiscoveryPacket(bytes: envelope.data.readableBytesView),
                            offer.nonce == nonce, let host = envelope.remoteAddress.ipAddress
                        else {
                            logger.debug(
                                "ignoring a datagram", metadata: ["from": "\(envelope.remoteAddress)"])
                            continue
                        }
                        let server = DiscoveredServer(
                            name: offer.name, serverId: offer.serverId, host: host, port: offer.port,
                            version: offer.version, fingerprint: offer.fingerprint)
                        found.servers.withLock { $0[offer.serverId] = server }
                    }
                }
                let window = timeout / attempts
                for attempt in 1...attempts {
                    logger.debug(
                        "DISCOVER",
                        metadata: [
                            "attempt": "\(attempt)/\(attempts)", "group": "\(group)", "interface": "\(interface)",
                        ])
                    try await outbound.write(AddressedEnvelope(remoteAddress: groupAddress, data: query))
                    try await Task.sleep(for: window)
                    if !waitFullTime && !found.servers.withLock({ $0.isEmpty }) { break }
                }
                tasks.cancelAll()
            }
        }
        return found.servers.withLock { Array($0.values) }.sorted { ($0.name, $0.serverId) < ($1.name, $1.serverId) }
    }
}

/// Offers collected while the discovery window is open.
private final class Offers: Sendable {
    let servers = Mutex<[String: DiscoveredServer]>([:])
}

extension UInt64 {
    fileprivate var bigEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * $0)) } }
}
