/// Splits long lists (manifest entries, tasks) into parts whose JSON stays far below the control
/// frame limit, whatever the paths contain.
public enum MessageParts {
    /// The worst-case JSON size of an item carrying `path`: every byte escaped as `\u00XX`, plus
    /// room for the other fields.
    public static func worstCaseBytes(ofPath path: String) -> Int {
        worstCaseBytes(ofPathBytes: path.utf8.count)
    }

    /// The same, for a path of `count` UTF-8 bytes.
    public static func worstCaseBytes(ofPathBytes count: Int) -> Int {
        count * 6 + 160
    }

    /// Consecutive slices of `items`, each with at most `maxCount` items and at most `maxBytes` of
    /// worst-case JSON. Always returns at least one (possibly empty) part.
    public static func split<Item>(
        _ items: [Item], maxCount: Int, maxBytes: Int = ProtocolLimits.maxControlPayload / 2, path: (Item) -> String
    ) -> [ArraySlice<Item>] {
        ranges(count: items.count, maxCount: maxCount, maxBytes: maxBytes) { path(items[$0]).utf8.count }
            .map { items[$0] }
    }

    /// The index ranges of consecutive parts of `count` items, each with at most `maxCount` items
    /// and at most `maxBytes` of worst-case JSON, given the UTF-8 length of each item's path. Always
    /// returns at least one (possibly empty) range.
    public static func ranges(
        count: Int, maxCount: Int, maxBytes: Int = ProtocolLimits.maxControlPayload / 2,
        pathByteCount: (Int) -> Int
    ) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = 0
        var bytes = 0
        for index in 0..<count {
            let size = worstCaseBytes(ofPathBytes: pathByteCount(index))
            if index > start && (index - start >= maxCount || bytes + size > maxBytes) {
                parts.append(start..<index)
                start = index
                bytes = 0
            }
            bytes += size
        }
        parts.append(start..<count)
        return parts
    }
}
