import CZlib
import NIOCore

/// Compresses blocks one at a time, each into a complete zlib stream, reusing one zlib state.
///
/// Not thread-safe: one per sending task.
public final class Deflater {
    private var stream = z_stream()
    public let level: Int32

    /// - Parameter level: zlib level 1 (fastest) to 9 (smallest).
    public init(level: Int) throws {
        self.level = Int32(max(1, min(9, level)))
        guard czlib_deflateInit(&stream, self.level) == Z_OK else {
            throw FileSyncError(.internalError, "zlib deflateInit failed")
        }
    }

    deinit { deflateEnd(&stream) }

    /// Appends the compressed form of `input` to `output` and returns `true`, or returns `false`
    /// and leaves `output` unchanged when the result would not be smaller than `input`.
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) -> Bool {
        guard input.count > 16 else { return false }
        let limit = input.count - 1
        deflateReset(&stream)
        var finished = false
        let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: limit) { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(limit)
            finished = deflate(&stream, Z_FINISH) == Z_STREAM_END
            return finished ? limit - Int(stream.avail_out) : 0
        }
        return finished && written > 0
    }
}

/// Decompresses blocks made by ``Deflater``, refusing any that would grow past a bound.
public final class Inflater {
    private var stream = z_stream()

    public init() throws {
        guard czlib_inflateInit(&stream) == Z_OK else {
            throw FileSyncError(.internalError, "zlib inflateInit failed")
        }
    }

    deinit { inflateEnd(&stream) }

    /// Appends the decompressed `input` to `output`.
    ///
    /// - Throws: `decompressionFailed` when `input` is not exactly one complete zlib stream or
    ///   would decompress to more than `maxOutput` bytes.
    public func decompress(_ input: ByteBuffer, into output: inout ByteBuffer, maxOutput: Int) throws {
        inflateReset(&stream)
        var status: Int32 = Z_OK
        var leftOver = 0
        input.withUnsafeReadableBytes { inBytes in
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: maxOutput) { out in
                stream.next_in = UnsafeMutablePointer(
                    mutating: inBytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(inBytes.count)
                stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(maxOutput)
                status = inflate(&stream, Z_FINISH)
                leftOver = Int(stream.avail_in)
                return status == Z_STREAM_END ? maxOutput - Int(stream.avail_out) : 0
            }
        }
        guard status == Z_STREAM_END, leftOver == 0 else {
            throw FileSyncError(
                .decompressionFailed,
                status == Z_BUF_ERROR
                    ? "compressed block expands beyond \(maxOutput) bytes"
                    : "compressed block is corrupt (zlib \(status))")
        }
    }
}

/// A cheap guess at whether a block is worth handing to zlib.
public enum Compressibility {
    /// Bytes of a sample looked at.
    static let sampleSize = 4096

    /// `true` when the order-0 entropy of up to the first 4 KiB of `sample` is below 7.2 bits per
    /// byte. Random or already-compressed data scores about 7.9 and is skipped without trying.
    public static func isWorthTrying(_ sample: UnsafeRawBufferPointer) -> Bool {
        let count = min(sample.count, sampleSize)
        guard count >= 64 else { return false }
        // H = log2(n) - Σ c·log2(c) / n over the byte counts c, with c·log2(c) from a table.
        // Four histograms filled in turn, so that runs of one byte value do not make each increment
        // wait for the previous one (it counts about twice as fast), then summed.
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 4 * 256) { histograms in
            histograms.initialize(repeating: 0)
            let bytes = UnsafeRawBufferPointer(rebasing: sample[..<count])
            let quads = count / 4
            var index = 0
            for _ in 0..<quads {
                histograms[Int(bytes[index])] &+= 1
                histograms[256 + Int(bytes[index + 1])] &+= 1
                histograms[512 + Int(bytes[index + 2])] &+= 1
                histograms[768 + Int(bytes[index + 3])] &+= 1
                index += 4
            }
            while index < count {
                histograms[Int(bytes[index])] &+= 1
                index += 1
            }
            let table = countLog2Count
            var sum = 0.0
            for value in 0..<256 {
                let total =
                    Int(histograms[value]) + Int(histograms[256 + value]) + Int(histograms[512 + value])
                    + Int(histograms[768 + value])
                if total > 0 { sum += table[total] }
            }
            return log2(Double(count)) - sum / Double(count) < 7.2
        }
    }

    /// `c·log2(c)` for every count a sample can hold.
    private static let countLog2Count: [Double] = (0...sampleSize).map { $0 == 0 ? 0 : Double($0) * log2(Double($0)) }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
