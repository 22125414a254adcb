import ArgumentParser
import FileSyncCore

extension BackupCommand {
    /// `--schedule` (or the profile's `schedule`) as a duration; `nil` when not given.
    func scheduleInterval() throws -> Duration? {
        guard let schedule else { return nil }
        do {
            return .seconds(try DurationParser.seconds(from: schedule))
        } catch let error as FileSyncError {
            throw ValidationError("--schedule: \(error.message)")
        }
    }
}
