/// A `HOST:PORT` pair as given on the command line (`--server`, `--group`).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// The default multicast group: administratively scoped (RFC 2365), so routers never forward it
    /// off the site; datagrams are also sent with TTL 1.
    public static let defaultGroup = Endpoint(host: "239.255.77.33", port: 7733)
    /// The IPv6 group discovery also uses, on the same port: link-local scope (`ff02::`, RFC 4291),
    /// so it never leaves the link; joined on the chosen interface, datagrams sent with hop limit 1.
    public static let defaultGroup6 = Endpoint(host: "ff02::7733", port: 7733)
    /// The default TCP port of the backup service.
    public static let defaultPort = 7733

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (IPv6 hosts in brackets: `[::1]:7733`); with `defaultPort`, a bare
    /// `HOST` (or `[IPv6]`) takes that port.
    public init(parsing text: String, defaultPort: Int? = nil) throws {
        if let defaultPort, let host = Self.bareHost(text) {
            self.init(host: host, port: defaultPort)
            return
        }
        guard let colon = text.lastIndex(of: ":") else {
            throw FileSyncError(.invalidSetting, "\"\(text)\" is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw FileSyncError(
                .invalidSetting, "\"\(text)\": an IPv6 address goes in brackets, [ADDRESS]:PORT (e.g. [::1]:7733)")
        }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw FileSyncError(.invalidSetting, "\"\(text)\" is not HOST:PORT with a port from 1 to 65535")
        }
        self.init(host: host, port: port)
    }

    /// The host of `text` when it names no port: `host` or `[IPv6]` (an unbracketed IPv6 address
    /// is read as `HOST:PORT`, as before).
    private static func bareHost(_ text: String) -> String? {
        if text.hasPrefix("[") && text.hasSuffix("]") && text.count > 2 { return String(text.dropFirst().dropLast()) }
        guard !text.isEmpty, !text.contains(":"), !text.contains("[") else { return nil }
        return text
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
