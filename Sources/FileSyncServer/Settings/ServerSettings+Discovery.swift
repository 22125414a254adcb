extension ServerSettings {
    /// The address families discovery answers on: those the TCP listener accepts, since a client
    /// connects to the OFFER's source address. `0.0.0.0` or an IPv4 address: IPv4 only; an IPv6
    /// address (`::1`): IPv6 only; `::` (dual-stack on Linux) or a host name: both (Protocol.md §2).
    public var discoveryFamilies: (ipv4: Bool, ipv6: Bool) {
        let host = listenHost
        if host == "::" || host == "[::]" { return (true, true) }
        if host.contains(":") { return (false, true) }
        if host.allSatisfy({ $0.isNumber || $0 == "." }) { return (true, false) }
        return (true, true)
    }
}
