/// A path from the wire that is safe to join under a client's folder.
///
/// Rules (Protocol.md, "Paths"): non-empty; at most ``ProtocolLimits/maxPathBytes`` UTF-8 bytes;
/// `/`-separated components, each non-empty, at most ``ProtocolLimits/maxComponentBytes`` bytes,
/// never `.` or `..`; no NUL; not absolute.
public struct RelativePath: Sendable, Hashable, CustomStringConvertible {
    public let string: String

    public init(validating string: String) throws {
        let bytes = string.utf8
        guard !bytes.isEmpty else { throw Self.invalid(string, "is empty") }
        guard bytes.count <= ProtocolLimits.maxPathBytes else {
            throw Self.invalid(string, "is longer than \(ProtocolLimits.maxPathBytes) bytes")
        }
        guard !bytes.contains(0) else { throw Self.invalid(string, "contains a NUL byte") }
        guard bytes.first != UInt8(ascii: "/") else { throw Self.invalid(string, "is absolute") }
        // One pass over the bytes, component by component, without splitting into arrays.
        let problem: String? =
            bytes.withContiguousStorageIfAvailable(Self.componentProblem)
            ?? Array(bytes).withUnsafeBufferPointer(Self.componentProblem)
        if let problem { throw Self.invalid(string, problem) }
        self.string = string
    }

    public var description: String { string }

    /// The components, in order.
    public var components: [Substring] { string.split(separator: "/") }

    /// The last component: the name of the file or folder itself.
    public var lastComponent: Substring {
        guard let slash = string.utf8.lastIndex(of: UInt8(ascii: "/")) else { return string[...] }
        return string[string.utf8.index(after: slash)...]
    }

    /// The components before the last: the path of the parent folder.
    public var parentComponents: [Substring] {
        guard let slash = string.utf8.lastIndex(of: UInt8(ascii: "/")) else { return [] }
        return string[..<slash].split(separator: "/")
    }

    /// What is wrong with the components of `bytes` (a path that is not empty, not absolute and
    /// free of NUL), if anything: an empty component, one too long, or `.` or `..`.
    private static func componentProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var start = 0
        for end in 0...bytes.count where end == bytes.count || bytes[end] == UInt8(ascii: "/") {
            let length = end - start
            if length == 0 { return "has an empty component" }
            if length > ProtocolLimits.maxComponentBytes {
                return "has a component longer than \(ProtocolLimits.maxComponentBytes) bytes"
            }
            if bytes[start] == UInt8(ascii: "."), length == 1 || (length == 2 && bytes[start + 1] == UInt8(ascii: "."))
            {
                return "contains a '.' or '..' component"
            }
            start = end + 1
        }
        return nil
    }

    private static func invalid(_ path: String, _ reason: String) -> FileSyncError {
        let shown = path.count > 80 ? String(path.prefix(80)) + "…" : path
        return FileSyncError(.invalidPath, "path \"\(shown.debugDescription.dropFirst().dropLast())\" \(reason)")
    }
}
