/// Counts in words for people: "1 file", "2 files", never "1 files".
public enum Plural {
    /// `count` and `noun`, the noun in the plural (`plural`, else `noun` + "s") unless `count` is 1.
    public static func count(_ count: Int, _ noun: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
    }
}
