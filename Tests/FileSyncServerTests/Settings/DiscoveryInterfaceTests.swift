import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Testing

@Suite("Discovery interface setting")
struct DiscoveryInterfaceTests {
    @Test(
        "an IPv4 address, an interface name (needed for IPv6 only) or off is accepted",
        arguments: ["192.168.1.20", "127.0.0.1", "eth0", "enp3s0", "veth1", "wlan0.100", "br-lan", "off"])
    func accepted(text: String) throws {
        #expect(try SettingValidation.discoveryInterface(text) == text)
    }

    @Test(
        "anything else is refused with the reason",
        arguments: ["", "10.0.0.300", "1.2.3", "eth0/1", "eth 0", "a-name-longer-than-15", "fe80::1"])
    func refused(text: String) {
        #expect {
            try SettingValidation.discoveryInterface(text)
        } throws: { error in
            (error as? FileSyncError)?.message.contains("is not an IPv4 address, an interface name") == true
        }
    }

    @Test(
        "discovery answers only on the families by which a client reaches the listener from the discovery interface",
        arguments: [
            ("0.0.0.0", true, false), ("::", true, true), ("::0", true, true), ("0:0:0:0:0:0:0:0", true, true),
            ("10.0.0.2", true, false), ("127.0.0.1", false, false), ("fe80::2%eth0", false, true),
            ("::1", false, false), ("backup.lan", true, true),
        ])
    func families(listen: String, ipv4: Bool, ipv6: Bool) throws {
        var settings = ServerSettings(
            root: "/nowhere", port: 7733, intervalSeconds: 3600, name: "n", serverId: "s", multicastInterface: "eth0",
            authenticator: Authenticator(secret: Array(repeating: 1, count: 32)))
        settings.listenHost = listen
        // The discovery interface holds 10.0.0.2 and fe80::2.
        let held = try ["10.0.0.2", "fe80::2"].map { try #require(MulticastSetup.addressBytes($0)) }
        #expect(settings.discoveryFamilies(interfaceAddresses: held) == (ipv4, ipv6))
    }
}
