import ArgumentParser
import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Foundation
import Logging

extension ServerCommand {
    /// The session history, the live state and the status they give.
    func makeOperations(settings: ServerSettings, logger: Logger) throws -> ServerOperations {
        let saved = try? SavedSettings.load(from: config ?? SavedSettings.defaultPath)
        return ServerOperations(
            root: settings.root, retention: Double(try DurationParser.seconds(from: keepSessions)),
            intervalSeconds: Double(settings.intervalSeconds),
            staleAfter: Double(try DurationParser.seconds(from: stale)),
            expected: expect + (saved?.expect ?? []), logger: logger)
    }

    /// The control socket `status` asks; without it (a path too long, say) `status` reads the disk.
    static func bindControlSocket(
        settings: ServerSettings, operations: ServerOperations, logger: Logger
    ) async -> ControlSocket? {
        do {
            return try await ControlSocket.bind(root: settings.root, operations: operations, logger: logger)
        } catch {
            logger.warning(
                "no control socket: status will read the state on disk, without the live state",
                metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The status page and metrics (`--http`), or `nil` with `--http off`. A non-loopback address
    /// is the user's choice, said at start: the page shows client ids, times and sizes to anyone
    /// who reaches it.
    /// Its address is printed once `announced` opens, after the lines about the backup service.
    func makeHTTPService(operations: ServerOperations, announced: Latch, logger: Logger) throws -> StatusHTTPService? {
        if http == "off" { return nil }
        // Port 0 (any free port) is allowed here, unlike for a client's --server.
        guard let colon = http.lastIndex(of: ":"), let port = Int(http[http.index(after: colon)...]),
            (0...65535).contains(port), colon > http.startIndex
        else {
            throw FileSyncError(.invalidSetting, "--http takes ADDR:PORT or off, got \"\(http)\"")
        }
        let host = String(http[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if !(host.hasPrefix("127.") || host == "::1" || host == "localhost") {
            logger.warning(
                "the status page is reachable from other machines: it shows client ids, backup times and sizes",
                metadata: ["http": "\(http)"])
        }
        return StatusHTTPService(host: host, port: port, operations: operations, logger: logger) { port in
            await announced.wait()
            let address = host.contains(":") ? "[\(host)]" : host
            print("status page and metrics on http://\(address):\(port)/ (/api/status, /metrics)")
            fflush(nil)
        }
    }
}

// Declared in each executable, where the argument parser is.
extension LineLogHandler.Format: ExpressibleByArgument {}
