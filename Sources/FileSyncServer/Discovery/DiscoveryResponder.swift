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
/// periodically, on one chosen interface only (`IP_MULTICAST_IF`, `IPV6_MULTICAST_IF`), with TTL
/// (hop limit) 1.
struct DiscoveryResponder {
    let settings: ServerSettings
    let tcpPort: Int
    let logger: Logger
    /// Replies per second at most to one source address, and to all together; DISCOVERs beyond
    /// either are dropped (logged at debug).
    var maxRepliesPerSecond = 20
    var maxRepliesPerSecondInAll = 100

    /// Answers on the IPv4 group (when the interface has an IPv4 address) and on the IPv6
    /// link-local group (when it has an IPv6 address), each on a socket of its own. IPv6 failing
    /// (a link without multicast) leaves IPv4 discovery running, and is logged.
    ///
    /// An OFFER names a port, and the client connects to the address it came from: so each family
    /// is answered only when the TCP listener accepts it (``ServerSettings/discoveryFamilies``).
    func run() async throws {
        let interface = settings.multicastInterface
        let families = settings.discoveryFamilies
        var ipv4 = MulticastSetup.ipv4Address(forInterface: interface)
        var ipv6 = MulticastSetup.ipv6Device(forInterface: interface)
        guard ipv4 != nil || ipv6 != nil else {
            throw FileSyncError(.invalidSetting, "no network interface is named or has the address \(interface)")
        }
        (ipv4, ipv6) = (families.ipv4 ? ipv4 : nil, families.ipv6 ? ipv6 : nil)
        guard ipv4 != nil || ipv6 != nil else {
            logger.warning(
                "discovery off: a client on \(interface) could not reach the server at \(settings.listenHost)",
                metadata: ["listen": "\(settings.listenHost)", "interface": "\(interface)"])
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            if let ipv4 {
                tasks.addTask {
                    let device = try MulticastSetup.device(forInterface: ipv4)
                    try await answer(
                        group: settings.group, bindHost: "0.0.0.0", device: device, interface: ipv4
                    ) { channel in
                        try await MulticastSetup.configureSender(channel, interface: ipv4)
                    }
                }
            }
            if let ipv6 {
                tasks.addTask {
                    let group = Endpoint(host: Endpoint.defaultGroup6.host, port: settings.group.port)
                    do {
                        try await answer(group: group, bindHost: "::", device: ipv6, interface: ipv6.name) { channel in
                            try await MulticastSetup.configureSender6(channel, device: ipv6)
                        }
                    } catch is CancellationError {
                    } catch {
                        logger.info(
                            "IPv6 discovery stopped", metadata: ["device": "\(ipv6.name)", "error": "\(error)"])
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }

    /// Joins `group` on `device` and answers there until cancelled, announcing periodically.
    private func answer(
        group: Endpoint, bindHost: String, device: NIONetworkDevice, interface: String,
        configure: @escaping @Sendable (any Channel) async throws -> Void
    ) async throws {
        let groupAddress = try SocketAddress(ipAddress: group.host, port: group.port)
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
        if bindHost == "::" { bootstrap = bootstrap.channelOption(MulticastSetup.ipv6Only, value: 1) }
        let channel = try await bootstrap.bind(host: bindHost, port: group.port) { channel in
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
            try await configure(channel.channel)
            try await (channel.channel as! MulticastChannel).joinGroup(groupAddress, device: device).get()
            logger.info(
                "discovery started",
                metadata: [
                    "group": "\(group)", "interface": "\(interface)", "device": "\(device.name)",
                    "name": "\(settings.name)",
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
