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
}
