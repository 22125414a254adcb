import Logging
import Testing

@testable import FileSyncClient

@Suite("Health ping URLs")
struct HealthPingTests {
    let logger = Logger(label: "test")

    @Test("the suffix goes on the path and the URL's query is kept on every ping")
    func queryKept() throws {
        let ping = try #require(HealthPing(url: "https://hc-ping.com/abc/?create=1&rid=7", logger: logger))
        #expect(ping.target("start") == "/abc/start?create=1&rid=7")
        #expect(ping.target("") == "/abc?create=1&rid=7")
        #expect(ping.target("75") == "/abc/75?create=1&rid=7")
        #expect(ping.hostHeader == "hc-ping.com")
    }

    @Test("a path is sent as written, percent escapes included; no path pings /")
    func pathAsWritten() throws {
        let escaped = try #require(HealthPing(url: "http://127.0.0.1:8000/my%20check", logger: logger))
        #expect(escaped.target("fail") == "/my%20check/fail")
        #expect(escaped.hostHeader == "127.0.0.1:8000")
        let bare = try #require(HealthPing(url: "http://example.org", logger: logger))
        #expect(bare.target("") == "/")
        #expect(bare.target("start") == "/start")
    }

    @Test("a host name with non-ASCII letters is used in its ASCII form")
    func internationalName() throws {
        let ping = try #require(HealthPing(url: "https://bücher.de/p", logger: logger))
        #expect(ping.host == "xn--bcher-kva.de")
        #expect(ping.hostHeader == "xn--bcher-kva.de")
    }

    @Test("an IPv6 host is connected to without brackets and named with them")
    func ipv6() throws {
        let ping = try #require(HealthPing(url: "http://[::1]:8080/p", logger: logger))
        #expect(ping.host == "::1")
        #expect(ping.port == 8080)
        #expect(ping.hostHeader == "[::1]:8080")
    }

    @Test("only http and https URLs with a host are accepted")
    func refused() {
        #expect(HealthPing(url: "ftp://example.org/x", logger: logger) == nil)
        #expect(HealthPing(url: "file:///etc/passwd", logger: logger) == nil)
        #expect(HealthPing(url: "not a url", logger: logger) == nil)
    }
}
