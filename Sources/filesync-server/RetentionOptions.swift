import ArgumentParser
import FileSyncServer

/// The retention flags, restic's: each keeps the newest snapshot of that many periods that hold one.
/// A flag not given takes the saved setting (the setup's counts), and the built-in default without one.
struct RetentionOptions: ParsableArguments {
    static let defaults = RetentionPolicy.defaults

    @Option(help: "Keep the newest N snapshots (default: the saved setting, else \(defaults.keepLast)).")
    var keepLast: Int?
    @Option(
        help: "One snapshot for each of the last N hours that have one (default: saved, else \(defaults.keepHourly))."
    )
    var keepHourly: Int?
    @Option(help: "... of the last N days (default: saved, else \(defaults.keepDaily)).") var keepDaily: Int?
    @Option(help: "... of the last N weeks (default: saved, else \(defaults.keepWeekly)).") var keepWeekly: Int?
    @Option(help: "... of the last N months (default: saved, else \(defaults.keepMonthly)).") var keepMonthly: Int?
    @Option(help: "... of the last N years (default: saved, else \(defaults.keepYearly)).") var keepYearly: Int?

    /// The flags given, each `nil` when not given.
    var overrides: RetentionOverrides {
        RetentionOverrides(
            keepLast: keepLast, keepHourly: keepHourly, keepDaily: keepDaily, keepWeekly: keepWeekly,
            keepMonthly: keepMonthly, keepYearly: keepYearly)
    }

    /// The flags given, over `base` (the saved settings) for the others.
    func policy(over base: RetentionPolicy) -> RetentionPolicy { overrides.applied(over: base) }

    func validate() throws {
        let values = [keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly].compactMap { $0 }
        guard values.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--keep-* values must be 0 or more") }
    }
}
