import FileSyncCore
import Testing

@Suite("Endpoint parsing")
struct EndpointTests {
    @Test(
        "with a default port, a bare host or bracketed IPv6 address takes it; HOST:PORT keeps its own",
        arguments: [
            ("localhost", "localhost", 7733), ("backup.lan", "backup.lan", 7733), ("[::1]", "::1", 7733),
            ("localhost:7734", "localhost", 7734), ("10.0.0.2:80", "10.0.0.2", 80), ("[::1]:9", "::1", 9),
        ])
    func defaultPort(text: String, host: String, port: Int) throws {
        let endpoint = try Endpoint(parsing: text, defaultPort: Endpoint.defaultPort)
        #expect(endpoint.host == host && endpoint.port == port)
    }

    @Test("without a default port, a bare host is refused as before", arguments: ["localhost", "[::1]"])
    func noDefault(text: String) {
        #expect(throws: FileSyncError.self) { try Endpoint(parsing: text) }
    }

    @Test(
        "IPv6 addresses in brackets, scoped link-local ones included, read and print back the same",
        arguments: [
            ("[fe80::1%eth0]:7733", "fe80::1%eth0", 7733), ("[::1]:7733", "::1", 7733),
            ("[fe80::a:b%veth1]", "fe80::a:b%veth1", 7733), ("[::]:80", "::", 80),
        ])
    func ipv6(text: String, host: String, port: Int) throws {
        let endpoint = try Endpoint(parsing: text, defaultPort: Endpoint.defaultPort)
        #expect(endpoint.host == host && endpoint.port == port)
        #expect(try Endpoint(parsing: endpoint.description) == endpoint)
    }

    @Test(
        "an IPv6 address without brackets is refused, naming the form to use",
        arguments: ["::1", "fe80::1:7733", "::1:80"])
    func unbracketedIPv6(text: String) {
        #expect {
            try Endpoint(parsing: text, defaultPort: Endpoint.defaultPort)
        } throws: { error in
            (error as? FileSyncError)?.message.contains("[ADDRESS]:PORT") == true
        }
    }
}
