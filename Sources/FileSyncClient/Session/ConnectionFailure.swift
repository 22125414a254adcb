import FileSyncCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed attempt to reach a server, said in plain words (never SwiftNIO's dump of its
/// connection attempts): "nothing is listening on 127.0.0.1:7734 (connection refused)".
public enum ConnectionFailure {
    /// Whether `error` is a connection the server's host refused (no process listens on the port).
    static func isRefused(_ error: any Error) -> Bool {
        errnoValues(of: error).contains(ECONNREFUSED)
    }

    /// `error` in a user's words; `endpoint` is the server the attempt was for.
    public static func describe(_ error: any Error, endpoint: Endpoint?) -> String {
        describe(error, target: endpoint.map { "\($0)" } ?? "the server")
    }

    /// `error` in a user's words; `target` names what the attempt was for ("host:port").
    static func describe(_ error: any Error, target: String) -> String {
        if let error = error as? FileSyncError { return error.message }
        if let failure = error as? BackupFailure { return failure.description }
        if let connection = error as? NIOConnectionError {
            if connection.dnsAError != nil || connection.dnsAAAAError != nil, connection.connectionErrors.isEmpty {
                return "cannot find the host \"\(connection.host)\" (name resolution failed)"
            }
        }
        if case ChannelError.connectTimeout = error { return "no answer from \(target) (connection timed out)" }
        if let code = errnoValues(of: error).first {
            switch code {
            case ECONNREFUSED: return "nothing is listening on \(target) (connection refused)"
            case ECONNRESET: return "the connection to \(target) was reset"
            case EHOSTUNREACH, ENETUNREACH: return "\(target) cannot be reached (\(String(cString: strerror(code))))"
            case ETIMEDOUT: return "no answer from \(target) (connection timed out)"
            default: return "cannot connect to \(target): \(String(cString: strerror(code)))"
            }
        }
        if let channel = error as? ChannelError {
            switch channel {
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return "\(target) closed the connection"
            default: return "the connection to \(target) failed (\(channel))"
            }
        }
        return "\(error)"
    }

    /// The `errno` values in `error` (an `IOError`, or the attempts of an `NIOConnectionError`).
    private static func errnoValues(of error: any Error) -> [Int32] {
        if let io = error as? IOError { return [io.errnoCode] }
        if let connection = error as? NIOConnectionError {
            return connection.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
        }
        return []
    }
}
