/// A `HOST:PORT` pair as given on the command line (`--server`, `--group`).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// The default multicast group: administratively scoped (RFC 2365), so routers never forward it
    /// off the site; datagrams are also sent with TTL 1.
    public static let defaultGroup = Endpoint(host: "239.255.77.33", port: 7733)
    /// The default TCP port of the backup service.
    public static let defaultPort = 7733

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (IPv6 hosts in brackets: `[::1]:7733`).
    public init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw FileSyncError(.invalidSetting, "\"\(text)\" is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw FileSyncError(.invalidSetting, "\"\(text)\" is not HOST:PORT with a port from 1 to 65535")
        }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
