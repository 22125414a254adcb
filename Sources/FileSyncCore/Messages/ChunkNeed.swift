/// Server → client, in a delta transfer: which chunks of the `CHUNK_LIST` frame just received the
/// server lacks, as `[first, count]` index ranges into that list, ascending and disjoint. The
/// client sends exactly those chunks, in order, as `CHUNK` frames.
public struct ChunkNeed: Codable, Sendable, Equatable {
    public var ranges: [[Int]]

    public init(ranges: [[Int]]) { self.ranges = ranges }

    /// Builds the ranges from one flag per list entry.
    public init(needed: [Bool]) {
        var ranges: [[Int]] = []
        var index = 0
        while index < needed.count {
            if needed[index] {
                let first = index
                while index < needed.count && needed[index] { index += 1 }
                ranges.append([first, index - first])
            } else {
                index += 1
            }
        }
        self.ranges = ranges
    }

    /// One flag per entry of a list of `count` entries; throws on ranges that are malformed,
    /// overlapping, out of order or out of bounds.
    public func needed(count: Int) throws -> [Bool] {
        var flags = [Bool](repeating: false, count: count)
        var next = 0
        for range in ranges {
            guard range.count == 2, range[0] >= next, range[1] >= 1, range[1] <= count - range[0] else {
                throw FileSyncError(.malformedMessage, "CHUNK_NEED range \(range) is invalid for \(count) chunks")
            }
            for index in range[0]..<(range[0] + range[1]) { flags[index] = true }
            next = range[0] + range[1]
        }
        return flags
    }
}
