import FileSyncCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Picks the multicast interface and configures datagram channels to use only it.
///
/// Discovery never leaves the interface to the routing table: every sender sets
/// `IP_MULTICAST_IF` to the chosen address, TTL 1 and loopback on.
public enum MulticastSetup {
    /// The network device that holds the IPv4 address `interface` (or, when `interface` is a device
    /// name such as `eth0`, that device's IPv4 address).
    ///
    /// The device is marked multicast-capable even when its flags say otherwise (loopback lacks
    /// `IFF_MULTICAST` but the kernel still delivers group traffic on it): the interface is an
    /// explicit choice, and the kernel has the last word when the group is joined.
    public static func device(forInterface interface: String) throws -> NIONetworkDevice {
        let devices = try System.enumerateDevices()
        guard
            var device = devices.first(where: { device in
                if case .v4(let address)? = device.address {
                    return address.host == interface || device.name == interface
                }
                return false
            })
        else {
            throw FileSyncError(.invalidSetting, "no network interface has the IPv4 address \(interface)")
        }
        device.multicastSupported = true
        return device
    }

    /// The address of the first non-loopback, multicast-capable IPv4 interface; else the name of
    /// the first such interface with IPv6 only; else 127.0.0.1.
    public static func defaultInterface() -> String {
        let devices = (try? System.enumerateDevices()) ?? []
        for device in devices where device.multicastSupported {
            if case .v4(let address)? = device.address, !address.host.hasPrefix("127.") { return address.host }
        }
        for device in devices where device.multicastSupported {
            if case .v6(let address)? = device.address, address.host != "::1" { return device.name }
        }
        return "127.0.0.1"
    }

    /// Sets `IP_MULTICAST_IF` to `interface`, TTL 1 and multicast loopback on `channel`.
    public static func configureSender(_ channel: any Channel, interface: String) async throws {
        var address = in_addr()
        guard inet_pton(AF_INET, interface, &address) == 1 else {
            throw FileSyncError(.invalidSetting, "\(interface) is not an IPv4 address")
        }
        guard let provider = channel as? any SocketOptionProvider else {
            throw FileSyncError(.internalError, "the datagram channel cannot set socket options")
        }
        try await provider.setIPMulticastIF(address).get()
        try await provider.setIPMulticastTTL(1).get()
        try await provider.setIPMulticastLoop(1).get()
    }
}
