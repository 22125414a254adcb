import ArgumentParser
import FileSyncServer

/// The retention flags, restic's: each keeps the newest snapshot of that many periods that hold one.
struct RetentionOptions: ParsableArguments {
    static let defaults = RetentionPolicy.defaults

    @Option(help: "Keep the newest N snapshots (default \(defaults.keepLast)).") var keepLast: Int?
    @Option(help: "Keep one snapshot for each of the last N hours that have one (default \(defaults.keepHourly)).")
    var keepHourly: Int?
    @Option(help: "... of the last N days (default \(defaults.keepDaily)).") var keepDaily: Int?
    @Option(help: "... of the last N weeks (default \(defaults.keepWeekly)).") var keepWeekly: Int?
    @Option(help: "... of the last N months (default \(defaults.keepMonthly)).") var keepMonthly: Int?
    @Option(help: "... of the last N years (default \(defaults.keepYearly)).") var keepYearly: Int?

    /// The policy: the defaults where a flag is not given.
    var policy: RetentionPolicy { policy(over: Self.defaults) }

    /// The flags given, over `base` (the saved settings) for the others.
    func policy(over base: RetentionPolicy) -> RetentionPolicy {
        RetentionPolicy(
            keepLast: keepLast ?? base.keepLast, keepHourly: keepHourly ?? base.keepHourly,
            keepDaily: keepDaily ?? base.keepDaily, keepWeekly: keepWeekly ?? base.keepWeekly,
            keepMonthly: keepMonthly ?? base.keepMonthly, keepYearly: keepYearly ?? base.keepYearly)
    }

    func validate() throws {
        let values = [keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly].compactMap { $0 }
        guard values.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--keep-* values must be 0 or more") }
    }
}
