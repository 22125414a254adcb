/// Paths held compactly: their UTF-8 bytes back to back, and where each ends (4 bytes per path
/// besides its bytes, against about 50 for a String of more than 15 bytes).
public struct PathList: Sendable {
    private var bytes: [UInt8] = []
    private var ends: [UInt32] = []

    /// The paths of one list add up to at most this many bytes (4 GiB).
    public static let maxBytes = Int(UInt32.max)

    public init() {}

    public var count: Int { ends.count }

    /// Appends a path given as its UTF-8 bytes.
    ///
    /// - Throws: `limitExceeded` past ``maxBytes``.
    public mutating func append(_ path: UnsafeRawBufferPointer) throws {
        guard bytes.count + path.count <= Self.maxBytes else {
            throw FileSyncError(.limitExceeded, "the manifest's paths exceed \(Self.maxBytes) bytes")
        }
        bytes.append(contentsOf: path)
        ends.append(UInt32(bytes.count))
    }

    /// Appends every path of `other`.
    public mutating func append(contentsOf other: PathList) throws {
        guard bytes.count + other.bytes.count <= Self.maxBytes else {
            throw FileSyncError(.limitExceeded, "the manifest's paths exceed \(Self.maxBytes) bytes")
        }
        let base = UInt32(bytes.count)
        bytes += other.bytes
        ends += other.ends.lazy.map { $0 + base }
    }

    /// The UTF-8 byte count of path `index`.
    public func byteCount(at index: Int) -> Int { Int(ends[index]) - start(of: index) }

    /// Path `index` as a String.
    public func path(at index: Int) -> String {
        withBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of path `index`.
    public func withBytes<Result>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[start(of: index)..<Int(ends[index])]))
        }
    }

    private func start(of index: Int) -> Int { index == 0 ? 0 : Int(ends[index - 1]) }
}
