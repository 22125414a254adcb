import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The server's config file: the answers of the interactive setup, reused on every start.
public struct SavedSettings: Codable, Sendable, Equatable {
    public var root: String?
    public var port: Int?
    /// A duration as typed, e.g. `15m`.
    public var interval: String?
    public var name: String?
    public var serverId: String?
    /// Snapshots to keep, as typed: six counts, last hourly daily weekly monthly yearly.
    public var retention: String?
    /// Address the TCP service listens on (`--listen`).
    public var listen: String?
    /// The interface discovery uses, its IPv4 address or name (`--interface`).
    public var interface: String?
    /// Client ids expected to back up: `status` flags those that never did (`--expect`).
    public var expect: [String]?

    public init(
        root: String? = nil, port: Int? = nil, interval: String? = nil, name: String? = nil, serverId: String? = nil
    ) {
        self.root = root
        self.port = port
        self.interval = interval
        self.name = name
        self.serverId = serverId
    }

    /// `$XDG_CONFIG_HOME/filesync/server.json`, or `~/.config/filesync/server.json`.
    public static var defaultPath: String {
        XDGPaths().config + "/server.json"
    }

    /// Reads the file at `path`; `nil` when it does not exist.
    public static func load(from path: String) throws -> SavedSettings? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // open(2) and read(2), so that a failure is said in the system's words, not Foundation's
        // "The operation could not be completed".
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSyncError(.invalidSetting, "cannot read the config file \(path)", errno: errno) }
        defer { close(fd) }
        guard let bytes = readPrefix(fd, upTo: Self.maxFileBytes) else {
            throw FileSyncError(.invalidSetting, "cannot read the config file \(path)", errno: errno)
        }
        do {
            return try JSONDecoder().decode(SavedSettings.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw FileSyncError(.invalidSetting, "the config file \(path) is not valid: \(error.shortDescription)")
        }
    }

    /// A config file is a few hundred bytes; more than this is not one.
    static let maxFileBytes = 1 << 20

    /// Writes the file atomically with mode 0600, creating its folder.
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        // Readable, since people are told to edit it: no `\/` escapes.
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try ConfigFile.write(Array(try encoder.encode(self)) + Array("\n".utf8), to: path, mode: 0o600)
    }
}

/// Checks each setting and turns it into its runtime form, with messages a person can act on.
public enum SettingValidation {
    /// An IPv4 address (`0.0.0.0`: every interface) or an IPv6 one (`::`).
    public static func listenAddress(_ text: String) throws -> String {
        let address = text.trimmingCharacters(in: .whitespaces)
        guard
            isIPv4(address)
                || (address.contains(":") && address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }))
        else {
            throw FileSyncError(.invalidSetting, "\"\(address)\" is not an IP address (e.g. 0.0.0.0 or 192.168.1.10)")
        }
        return address
    }

    /// The interface discovery uses: its IPv4 address, or its name (`eth0`; needed for an
    /// interface with IPv6 only), or `off`.
    public static func discoveryInterface(_ text: String) throws -> String {
        let address = text.trimmingCharacters(in: .whitespaces)
        guard address == "off" || isIPv4(address) || isInterfaceName(address) else {
            throw FileSyncError(
                .invalidSetting, "\"\(address)\" is not an IPv4 address, an interface name (e.g. eth0) nor off")
        }
        return address
    }

    /// A network interface name as Linux allows it: 1 to 15 characters, no '/', ':' or space, not
    /// all digits and dots (which would read as an address).
    static func isInterfaceName(_ text: String) -> Bool {
        (1...15).contains(text.utf8.count)
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }
            && !text.allSatisfy { $0.isNumber || $0 == "." }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && (Int(part).map { $0 <= 255 } ?? false)
            }
    }

    public static func root(_ text: String) throws -> String {
        var path = text.trimmingCharacters(in: .whitespaces)
        guard !path.isEmpty else { throw FileSyncError(.invalidSetting, "the storage folder cannot be empty") }
        if path == "~" || path.hasPrefix("~/") { path = NSHomeDirectory() + path.dropFirst() }
        if !path.hasPrefix("/") { path = FileManager.default.currentDirectoryPath + "/" + path }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw FileSyncError(.invalidSetting, "\(path) exists and is not a folder")
            }
        } else {
            // The root is created 0700 (its parents as usual): other local users cannot read the
            // clients' files, whose own modes are kept as the clients sent them.
            let parent = String(path[..<path.lastIndex(of: "/")!])
            if !parent.isEmpty { try ConfigFile.makeFolders(parent, mode: 0o755) }
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw FileSyncError(.invalidSetting, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw FileSyncError(.invalidSetting, "\(path) is not writable")
        }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    public static func port(_ text: String) throws -> Int {
        guard let port = Int(text.trimmingCharacters(in: .whitespaces)), (0...65535).contains(port) else {
            throw FileSyncError(
                .invalidSetting, "\"\(text)\" is not a port number from 1 to 65535 (0 picks any free port)")
        }
        return port
    }

    public static func interval(_ text: String) throws -> Int {
        try DurationParser.seconds(from: text)
    }

    public static func name(_ text: String) throws -> String {
        let name = text.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.count <= 64,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw FileSyncError(.invalidSetting, "the server name must be 1 to 64 bytes of printable text")
        }
        return name
    }
}
