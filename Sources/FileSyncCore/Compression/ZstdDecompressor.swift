import CZstd
import NIOCore

/// Decompresses blocks made by ``ZstdCompressor``, refusing any that would grow past a bound.
///
/// Not thread-safe: one per receiving task.
public final class ZstdDecompressor {
    private let context: OpaquePointer

    // MARK: - Lifecycle

    public init() throws {
        guard let context = ZSTD_createDCtx() else {
            throw FileSyncError(.internalError, "zstd ZSTD_createDCtx failed")
        }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    // MARK: - Decompressing

    /// Appends the decompressed `input` to `output`.
    ///
    /// The frame's declared content size is checked against `maxOutput` before any room is
    /// reserved, and decoding writes into exactly that much room (or `maxOutput` when the frame
    /// declares no size), so a lying or absent header cannot make it write or allocate more. A
    /// frame that declares no size must also declare a window no larger than the larger of
    /// `maxOutput` and 128 KiB, rounded up to a power of two, which caps the context's own buffer.
    ///
    /// - Throws: `decompressionFailed` when `input` is not exactly one complete zstd frame or
    ///   would decompress to more than `maxOutput` bytes.
    public func decompress(_ input: ByteBuffer, into output: inout ByteBuffer, maxOutput: Int) throws {
        guard maxOutput >= 0 else { throw Self.corrupt("negative output bound \(maxOutput)") }
        try input.withUnsafeReadableBytes { source in
            let declared = try Self.declaredSize(of: source, maxOutput: maxOutput)
            try prepare(maxOutput: maxOutput)
            try decode(source, capacity: declared ?? maxOutput, exact: declared != nil, into: &output)
        }
    }

    // MARK: - Steps

    /// The content size the one frame in `source` declares (at most `maxOutput`), or `nil` when it
    /// declares none.
    private static func declaredSize(of source: UnsafeRawBufferPointer, maxOutput: Int) throws -> Int? {
        // Only a zstd data frame: no skippable frames (they carry no data) and no legacy formats.
        guard source.count >= 4, source.loadUnaligned(as: UInt32.self).littleEndian == ZSTD_MAGICNUMBER else {
            throw corrupt("compressed block is not a zstd frame")
        }
        let frameSize = ZSTD_findFrameCompressedSize(source.baseAddress, source.count)
        guard ZSTD_isError(frameSize) == 0 else {
            throw corrupt("compressed block is corrupt (zstd \(errorName(frameSize)))")
        }
        guard frameSize == source.count else {
            throw corrupt("compressed block has \(source.count - frameSize) bytes after its zstd frame")
        }
        let declared = ZSTD_getFrameContentSize(source.baseAddress, source.count)
        if declared == czstd_contentSizeUnknown() { return nil }
        guard declared != czstd_contentSizeError() else {
            throw corrupt("compressed block has a corrupt zstd frame header")
        }
        guard declared <= UInt64(maxOutput) else {
            throw corrupt("compressed block expands beyond \(maxOutput) bytes (declares \(declared))")
        }
        return Int(declared)
    }

    /// Starts a new frame and caps the window a size-less frame may make the context allocate:
    /// a window larger than the whole output is never needed (128 KiB is one full block).
    private func prepare(maxOutput: Int) throws {
        let bounds = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax)
        guard ZSTD_isError(bounds.error) == 0 else {
            throw FileSyncError(.internalError, "zstd could not report its window limits")
        }
        var windowLog: Int32 = 17
        while windowLog < 62, (1 << windowLog) < maxOutput { windowLog += 1 }
        windowLog = max(bounds.lowerBound, min(bounds.upperBound, windowLog))
        guard ZSTD_isError(ZSTD_DCtx_reset(context, ZSTD_reset_session_only)) == 0,
            ZSTD_isError(ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, windowLog)) == 0
        else {
            throw FileSyncError(.internalError, "zstd could not reset the decompression context")
        }
    }

    /// Decodes the frame in `source` into at most `capacity` new bytes of `output`, and into
    /// exactly `capacity` when `exact`.
    private func decode(
        _ source: UnsafeRawBufferPointer, capacity: Int, exact: Bool, into output: inout ByteBuffer
    ) throws {
        var result = 0
        var outputFull = false
        var produced = 0
        var consumed = 0
        _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { out in
            var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
            var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: capacity, pos: 0)
            while true {
                let before = (inBuffer.pos, outBuffer.pos)
                result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                if ZSTD_isError(result) != 0 || result == 0 { break }
                if before == (inBuffer.pos, outBuffer.pos) {  // stalled: out of room or of input
                    outputFull = outBuffer.pos == outBuffer.size
                    break
                }
            }
            produced = outBuffer.pos
            consumed = inBuffer.pos
            let complete = result == 0 && consumed == source.count && (!exact || produced == capacity)
            return complete ? produced : 0
        }
        let tooBig =
            exact
            ? "compressed block decodes to more than the \(capacity) bytes it declares"
            : "compressed block expands beyond \(capacity) bytes"
        guard ZSTD_isError(result) == 0 else {
            throw Self.corrupt(
                ZSTD_getErrorCode(result) == ZSTD_error_dstSize_tooSmall
                    ? tooBig : "compressed block is corrupt (zstd \(Self.errorName(result)))")
        }
        guard result == 0 else {
            throw Self.corrupt(outputFull ? tooBig : "compressed block is truncated")
        }
        guard consumed == source.count else {
            throw Self.corrupt("compressed block has \(source.count - consumed) bytes after its zstd frame")
        }
        guard !exact || produced == capacity else {
            throw Self.corrupt("compressed block decodes to \(produced) bytes, not the \(capacity) it declares")
        }
    }

    // MARK: - Errors

    private static func corrupt(_ message: String) -> FileSyncError {
        FileSyncError(.decompressionFailed, message)
    }

    private static func errorName(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }
}
