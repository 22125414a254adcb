import FileSyncSystem

extension ServerSettings {
    /// The address families discovery answers on: those by which a client reaches the TCP listener
    /// at the address the answer comes from (Protocol.md §2). An unspecified listener (`0.0.0.0`:
    /// IPv4; `::`, dual-stack on Linux: both) or a host name: as the interface has addresses; a
    /// listener on one address: its family, and only when the discovery interface holds that
    /// address (the answer then comes from it). A listener on `::1` or `127.0.0.1` with discovery
    /// on another interface answers nowhere: no client there could connect.
    public func discoveryFamilies(interfaceAddresses: [[UInt8]]) -> (ipv4: Bool, ipv6: Bool) {
        guard let listen = MulticastSetup.addressBytes(listenHost) else { return (true, true) }
        if listen.allSatisfy({ $0 == 0 }) { return (true, listen.count == 16) }
        let held = interfaceAddresses.contains(listen)
        return listen.count == 4 ? (held, false) : (false, held)
    }

    /// ``discoveryFamilies(interfaceAddresses:)`` for the discovery interface as the system has it now.
    public var discoveryFamilies: (ipv4: Bool, ipv6: Bool) {
        discoveryFamilies(interfaceAddresses: MulticastSetup.addresses(ofInterface: multicastInterface))
    }
}
