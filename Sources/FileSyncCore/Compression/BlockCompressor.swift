import NIOCore

/// Compresses file blocks with the codec the session negotiated: zstd when both peers have the
/// `zstd` capability, zlib (`deflate`) otherwise. Each block becomes one complete, independent
/// stream, marked by the frame flag ``flag``.
///
/// Not thread-safe: one per sending task.
public enum BlockCompressor {
    case zlib(Deflater)
    case zstd(ZstdCompressor)

    /// The frame flag of a block compressed by this codec.
    public var flag: Frame.Flags {
        switch self {
        case .zlib: .deflated
        case .zstd: .zstd
        }
    }

    /// Appends the compressed form of `input` to `output` and returns `true`, or returns `false`
    /// and leaves `output` unchanged when the result would not be smaller than `input`.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) -> Bool {
        switch self {
        case .zlib(let deflater): deflater.compress(input, into: &output)
        case .zstd(let compressor): compressor.compress(input, into: &output)
        }
    }
}

/// Decompresses blocks by their frame flag, refusing codecs the session did not negotiate.
public final class BlockDecompressor {
    private let allowed: Frame.Flags
    private var inflater: Inflater?
    private var zstd: ZstdDecompressor?

    /// - Parameter allowed: the flags of the negotiated codecs (`.deflated`, `.zstd`).
    public init(allowed: Frame.Flags) {
        self.allowed = allowed
    }

    /// Whether `flags` mark a compressed block.
    public static func isCompressed(_ flags: Frame.Flags) -> Bool {
        !flags.intersection([.deflated, .zstd]).isEmpty
    }

    /// Decompresses `input`, compressed as `flags` say, into `output` (cleared first).
    ///
    /// - Throws: `malformedFrame` for a codec that was not negotiated; `decompressionFailed` for a
    ///   corrupt block or one that would exceed `maxOutput` bytes.
    public func decompress(_ input: ByteBuffer, flags: Frame.Flags, into output: inout ByteBuffer, maxOutput: Int)
        throws
    {
        output.clear()
        if flags.contains(.deflated) {
            guard allowed.contains(.deflated) else {
                throw FileSyncError(.malformedFrame, "a deflated frame, but deflate was not negotiated")
            }
            if inflater == nil { inflater = try Inflater() }
            try inflater!.decompress(input, into: &output, maxOutput: maxOutput)
        } else if flags.contains(.zstd) {
            guard allowed.contains(.zstd) else {
                throw FileSyncError(.malformedFrame, "a zstd frame, but zstd was not negotiated")
            }
            if zstd == nil { zstd = try ZstdDecompressor() }
            try zstd!.decompress(input, into: &output, maxOutput: maxOutput)
        }
    }
}
