import FileSyncCore

extension RetentionPolicy {
    /// The six counts as the setup asks and the config file keeps them: `"10 48 14 8 24 5"`.
    public var counts: String {
        [keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly].map(String.init).joined(separator: " ")
    }

    /// A policy from six counts separated by spaces or commas, in the order of ``counts``.
    public init(counts text: String) throws {
        let numbers = text.split(whereSeparator: { $0 == " " || $0 == "," }).map { Int($0) }
        guard numbers.count == 6, numbers.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw FileSyncError(
                .invalidSetting,
                "\"\(text)\" is not six counts (last hourly daily weekly monthly yearly, e.g. 10 48 14 8 24 5)")
        }
        let values = numbers.map { $0! }
        self.init(
            keepLast: values[0], keepHourly: values[1], keepDaily: values[2], keepWeekly: values[3],
            keepMonthly: values[4], keepYearly: values[5])
    }
}
