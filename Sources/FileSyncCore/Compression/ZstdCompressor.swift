import CZstd
import NIOCore

/// Compresses blocks one at a time, each into a complete zstd frame, reusing one zstd context.
///
/// Each frame declares its content size, so ``ZstdDecompressor`` can refuse an oversized block
/// before reserving room for it. Not thread-safe: one per sending task.
public final class ZstdCompressor {
    private let context: OpaquePointer
    public let level: Int32

    // MARK: - Lifecycle

    /// - Parameter level: zstd level 1 (fastest) to `ZSTD_maxCLevel()` (smallest, slowest);
    ///   values outside that range are clamped.
    public init(level: Int) throws {
        self.level = Int32(max(1, min(Int(ZSTD_maxCLevel()), level)))
        guard let context = ZSTD_createCCtx() else {
            throw FileSyncError(.internalError, "zstd ZSTD_createCCtx failed")
        }
        self.context = context
        guard ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, self.level)) == 0,
            ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)) == 0
        else {
            ZSTD_freeCCtx(context)
            throw FileSyncError(.internalError, "zstd could not set compression level \(self.level)")
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    // MARK: - Compressing

    /// Appends the compressed form of `input` to `output` and returns `true`, or returns `false`
    /// and leaves `output` unchanged when the result would not be smaller than `input`.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) -> Bool {
        guard input.count > 16 else { return false }
        let limit = input.count - 1
        var finished = false
        let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: limit) { out in
            // ZSTD_compress2 starts a new frame (keeping the parameters) and fails with
            // dstSize_tooSmall rather than write past `limit`.
            let result = ZSTD_compress2(context, out.baseAddress, limit, input.baseAddress, input.count)
            finished = ZSTD_isError(result) == 0
            return finished ? result : 0
        }
        return finished && written > 0
    }
}
