import FileSyncCore
import FileSyncSystem
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Answers `DISCOVER` datagrams with a unicast `OFFER` and multicasts `ANNOUNCE` at start and then
/// periodically, on one chosen interface only (`IP_MULTICAST_IF`), with TTL 1.
struct DiscoveryResponder {
    let settings: ServerSettings
    let tcpPort: Int
    let logger: Logger
    /// Replies per second at most to one source address, and to all together; DISCOVERs beyond
    /// either are dropped (logged at debug).
    var maxRepliesPerSecond = 20
    var maxRepliesPerSecondInAll = 100

    func run() async throws {
        let device = try MulticastSetup.device(forInterface: settings.multicastInterface)
        let groupAddress = try SocketAddress(ipAddress: settings.group.host, port: settings.group.port)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "0.0.0.0", port: settings.group.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let offer = DiscoveryPacket.Offer(
            nonce: nil, serverId: settings.serverId, name: settings.name, port: tcpPort,
            fingerprint: settings.identity?.fingerprint)
        let announce = ByteBuffer(bytes: try DiscoveryPacket.announce(offer).encoded())
        try await channel.executeThenClose { inbound, outbound in
            try await MulticastSetup.configureSender(channel.channel, interface: settings.multicastInterface)
            try await (channel.channel as! MulticastChannel).joinGroup(groupAddress, device: device).get()
            logger.info(
                "discovery started",
                metadata: [
                    "group": "\(settings.group)", "interface": "\(settings.multicastInterface)",
                    "device": "\(device.name)", "name": "\(settings.name)",
                ])
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    while true {
                        try await outbound.write(AddressedEnvelope(remoteAddress: groupAddress, data: announce))
                        try await Task.sleep(for: .nanoseconds(settings.announceInterval.nanoseconds))
                    }
                }
                var limiter = SourceRateLimiter(perSource: maxRepliesPerSecond, inAll: maxRepliesPerSecondInAll)
                for try await envelope in inbound {
                    guard let reply = reply(to: envelope, offer: offer) else { continue }
                    guard limiter.allow(envelope.remoteAddress.ipAddress ?? "") else {
                        logger.debug(
                            "discovery reply dropped: rate limit", metadata: ["peer": "\(envelope.remoteAddress)"])
                        continue
                    }
                    try await outbound.write(reply)
                }
                tasks.cancelAll()
            }
        }
    }

    private func reply(to envelope: AddressedEnvelope<ByteBuffer>, offer: DiscoveryPacket.Offer)
        -> AddressedEnvelope<ByteBuffer>?
    {
        let packet: DiscoveryPacket
        do {
            packet = try DiscoveryPacket(bytes: envelope.data.readableBytesView)
        } catch {
            logger.debug("ignoring datagram", metadata: ["peer": "\(envelope.remoteAddress)", "error": "\(error)"])
            return nil
        }
        guard case .discover(let discover) = packet else { return nil }
        var answer = offer
        answer.nonce = discover.nonce
        guard let bytes = try? DiscoveryPacket.offer(answer).encoded(), bytes.count <= envelope.data.readableBytes
        else {
            return nil
        }
        logger.debug("offer sent", metadata: ["peer": "\(envelope.remoteAddress)"])
        return AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: bytes))
    }
}
