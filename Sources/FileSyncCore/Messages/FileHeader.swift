/// Client → server: the data frames that follow are the content of this file, from `offset` on.
public struct FileHeader: Codable, Sendable, Equatable {
    public var path: String
    public var size: Int64
    public var mtimeNs: Int64
    public var mode: UInt32
    /// With the `resume` capability: the data starts at this byte, continuing the server's partial
    /// copy (must equal the offset of the `resume` task). Absent means 0.
    public var offset: Int64?
    /// How the content follows: absent for data frames; `"chunked"` or `"delta"` (the task's kind)
    /// for `CHUNK` frames, the latter after `CHUNK_LIST` rounds.
    public var transfer: TransferTask.Kind?

    public init(
        path: String, size: Int64, mtimeNs: Int64, mode: UInt32, offset: Int64? = nil,
        transfer: TransferTask.Kind? = nil
    ) {
        self.path = path
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
        self.offset = offset
        self.transfer = transfer
    }
}
