/// Splits long lists (manifest entries, tasks) into parts whose JSON stays far below the control
/// frame limit, whatever the paths contain.
public enum MessageParts {
    /// The worst-case JSON size of an item carrying `path`: every byte escaped as `\u00XX`, plus
    /// room for the other fields.
    public static func worstCaseBytes(ofPath path: String) -> Int {
        path.utf8.count * 6 + 160
    }

    /// Consecutive slices of `items`, each with at most `maxCount` items and at most `maxBytes` of
    /// worst-case JSON. Always returns at least one (possibly empty) part.
    public static func split<Item>(
        _ items: [Item], maxCount: Int, maxBytes: Int = ProtocolLimits.maxControlPayload / 2, path: (Item) -> String
    ) -> [ArraySlice<Item>] {
        var parts: [ArraySlice<Item>] = []
        var start = 0
        var bytes = 0
        for (index, item) in items.enumerated() {
            let size = worstCaseBytes(ofPath: path(item))
            if index > start && (index - start >= maxCount || bytes + size > maxBytes) {
                parts.append(items[start..<index])
                start = index
                bytes = 0
            }
            bytes += size
        }
        parts.append(items[start..<items.count])
        return parts
    }
}
