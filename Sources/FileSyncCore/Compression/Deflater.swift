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

/// A cheap guess at whether a block is worth handing to a compressor.
public enum Compressibility {
    /// Bytes looked at, at most: a block of up to this size is looked at whole, a larger one in
    /// ``slices`` slices spread over it (its start, its end and between), so that a block whose
    /// start differs from the rest is not judged by its start alone.
    static let sampleSize = 1024
    static let slices = 4

    /// `true` when the order-0 entropy of the sample (``sampleRanges(count:)``) of `block` is below
    /// 7.2 bits per byte. Random or already-compressed data scores about 7.8 on 1 KiB (8 less the
    /// estimator's small-sample bias) and is skipped without trying; text scores 4 to 6.
    public static func isWorthTrying(_ block: UnsafeRawBufferPointer) -> Bool {
        guard block.count >= 64 else { return false }
        // H = log2(n) - Σ c·log2(c) / n over the byte counts c, with c·log2(c) from a table.
        // Four histograms filled in turn, so that runs of one byte value do not make each increment
        // wait for the previous one (it counts about twice as fast), then summed.
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 4 * 256) { histograms in
            histograms.initialize(repeating: 0)
            var counted = 0
            for slice in 0..<sliceCount(count: block.count) {
                let range = sampleRange(slice, count: block.count)
                count(UnsafeRawBufferPointer(rebasing: block[range]), into: histograms)
                counted += range.count
            }
            let table = countLog2Count
            var sum = 0.0
            for value in 0..<256 {
                let total =
                    Int(histograms[value]) + Int(histograms[256 + value]) + Int(histograms[512 + value])
                    + Int(histograms[768 + value])
                if total > 0 { sum += table[total] }
            }
            return log2(Double(counted)) - sum / Double(counted) < 7.2
        }
    }

    /// The parts of a block of `count` bytes that ``isWorthTrying(_:)`` looks at.
    public static func sampleRanges(count: Int) -> [Range<Int>] {
        (0..<sliceCount(count: count)).map { sampleRange($0, count: count) }
    }

    private static func sliceCount(count: Int) -> Int { count <= sampleSize ? 1 : slices }

    private static func sampleRange(_ slice: Int, count: Int) -> Range<Int> {
        guard count > sampleSize else { return 0..<count }
        let length = sampleSize / slices
        let start = slice * (count - length) / (slices - 1)
        return start..<(start + length)
    }

    /// Adds the bytes of `bytes` to the four histograms, in turn.
    private static func count(_ bytes: UnsafeRawBufferPointer, into histograms: UnsafeMutableBufferPointer<UInt16>) {
        let quads = bytes.count / 4
        var index = 0
        for _ in 0..<quads {
            histograms[Int(bytes[index])] &+= 1
            histograms[256 + Int(bytes[index + 1])] &+= 1
            histograms[512 + Int(bytes[index + 2])] &+= 1
            histograms[768 + Int(bytes[index + 3])] &+= 1
            index += 4
        }
        while index < bytes.count {
            histograms[Int(bytes[index])] &+= 1
            index += 1
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
