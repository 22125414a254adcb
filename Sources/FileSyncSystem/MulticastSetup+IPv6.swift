import FileSyncCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Discovery over IPv6 (Protocol.md §2): the link-local group `ff02::7733` on one interface,
/// found by its name or by the IPv4 address it holds.
extension MulticastSetup {
    /// The IPv4 address of `interface`: the address itself, or the first IPv4 address of the
    /// device of that name; `nil` when it has none (an IPv6-only interface).
    public static func ipv4Address(forInterface interface: String) -> String? {
        (try? device(forInterface: interface)).flatMap { device in
            if case .v4(let address)? = device.address { return address.host }
            return nil
        }
    }

    /// The device of `interface` (a name, or the device holding that IPv4 address) when it has an
    /// IPv6 address; `nil` otherwise. Its `interfaceIndex` scopes the link-local group.
    public static func ipv6Device(forInterface interface: String) -> NIONetworkDevice? {
        let devices = (try? System.enumerateDevices()) ?? []
        let name = deviceName(forInterface: interface, among: devices)
        guard
            var device = devices.first(where: { device in
                if case .v6? = device.address { return device.name == name }
                return false
            })
        else { return nil }
        device.multicastSupported = true
        return device
    }

    /// Every address `interface` (a name, or the device holding that IPv4 address) holds, as 4 or
    /// 16 bytes; empty when there is no such interface.
    public static func addresses(ofInterface interface: String) -> [[UInt8]] {
        let devices = (try? System.enumerateDevices()) ?? []
        let name = deviceName(forInterface: interface, among: devices)
        return devices.filter { $0.name == name }.compactMap { device in
            device.address?.ipAddress.flatMap(Self.addressBytes)
        }
    }

    /// The name of the device `interface` names: itself, or the device holding that IPv4 address.
    private static func deviceName(forInterface interface: String, among devices: [NIONetworkDevice]) -> String {
        devices.first(where: { device in
            if case .v4(let address)? = device.address { return address.host == interface }
            return false
        })?.name ?? interface
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address in text (brackets and a `%scope` ignored);
    /// `nil` when it is neither.
    public static func addressBytes(_ text: String) -> [UInt8]? {
        var host = Substring(text)
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if let percent = host.firstIndex(of: "%") { host = host[..<percent] }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(host), &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(host), &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// A name for `device`'s link-local addresses: `fe80::1` becomes `fe80::1%eth0`, so that a
    /// connection to it leaves by that interface; other addresses stay as they are.
    public static func scoped(_ host: String, device: NIONetworkDevice) -> String {
        host.lowercased().hasPrefix("fe80:") && !host.contains("%") ? "\(host)%\(device.name)" : host
    }

    /// Sets `IPV6_MULTICAST_IF` to `device`, hop limit 1 and multicast loopback on `channel`.
    public static func configureSender6(_ channel: any Channel, device: NIONetworkDevice) async throws {
        guard let provider = channel as? any SocketOptionProvider else {
            throw FileSyncError(.internalError, "the datagram channel cannot set socket options")
        }
        try await provider.setIPv6MulticastIF(CUnsignedInt(device.interfaceIndex)).get()
        try await provider.setIPv6MulticastHops(1).get()
        try await provider.setIPv6MulticastLoop(1).get()
    }

    /// The channel option that keeps an IPv6 datagram socket to IPv6 (`IPV6_V6ONLY`), so that it
    /// does not also receive the IPv4 group's datagrams on the same port.
    public static var ipv6Only: ChannelOptions.Types.SocketOption {
        ChannelOptions.Types.SocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_IPV6)),
            name: NIOBSDSocket.Option(rawValue: CInt(IPV6_V6ONLY)))
    }
}
