import FileSyncCore
import FileSyncServer
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
        "discovery answers only on the address families the listener accepts",
        arguments: [
            ("0.0.0.0", true, false), ("127.0.0.1", true, false), ("10.0.0.2", true, false), ("::", true, true),
            ("::1", false, true), ("fe80::1%eth0", false, true), ("backup.lan", true, true),
        ])
    func families(listen: String, ipv4: Bool, ipv6: Bool) {
        var settings = ServerSettings(
            root: "/nowhere", port: 7733, intervalSeconds: 3600, name: "n", serverId: "s", multicastInterface: "lo",
            authenticator: Authenticator(secret: Array(repeating: 1, count: 32)))
        settings.listenHost = listen
        #expect(settings.discoveryFamilies == (ipv4, ipv6))
    }
}
