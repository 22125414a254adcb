import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The retention counts given as flags (`--keep-last N` …), each `nil` when not given.
///
/// A running server records its own in `<root>/.filesync/@server/retention-flags.json` when it
/// starts, with the config file it read its saved counts from, so that `filesync-server prune` run
/// by hand applies what the server applies after each session even when the server was configured
/// by flags or by another config file: a prune by hand then never forgets a snapshot the server's
/// own policy keeps. Every start records them, so that flags of an earlier start do not linger.
public struct RetentionOverrides: Codable, Sendable, Equatable {
    /// `--keep-last`.
    public var keepLast: Int?
    /// `--keep-hourly`.
    public var keepHourly: Int?
    /// `--keep-daily`.
    public var keepDaily: Int?
    /// `--keep-weekly`.
    public var keepWeekly: Int?
    /// `--keep-monthly`.
    public var keepMonthly: Int?
    /// `--keep-yearly`.
    public var keepYearly: Int?
    /// The config file the recording server read its saved counts from (`--config`, or the default).
    public var config: String?

    /// The counts given; `nil` for those not given.
    public init(
        keepLast: Int? = nil, keepHourly: Int? = nil, keepDaily: Int? = nil, keepWeekly: Int? = nil,
        keepMonthly: Int? = nil, keepYearly: Int? = nil
    ) {
        (self.keepLast, self.keepHourly, self.keepDaily) = (keepLast, keepHourly, keepDaily)
        (self.keepWeekly, self.keepMonthly, self.keepYearly) = (keepWeekly, keepMonthly, keepYearly)
    }

    /// The file's name in the root's state folder.
    public static let fileName = "retention-flags.json"

    /// Where a server serving `root` records its flags.
    public static func path(root: String) -> String {
        SessionLog.folder(root: root) + "/" + fileName
    }

    /// Whether no count is given.
    public var isEmpty: Bool {
        [keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly].allSatisfy { $0 == nil }
    }

    /// The counts given, over `base` for the others.
    public func applied(over base: RetentionPolicy) -> RetentionPolicy {
        RetentionPolicy(
            keepLast: keepLast ?? base.keepLast, keepHourly: keepHourly ?? base.keepHourly,
            keepDaily: keepDaily ?? base.keepDaily, keepWeekly: keepWeekly ?? base.keepWeekly,
            keepMonthly: keepMonthly ?? base.keepMonthly, keepYearly: keepYearly ?? base.keepYearly)
    }

    /// Records these flags as the running server's for `root` (atomically, synced).
    public func record(root: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try ConfigFile.write(
                Array(try encoder.encode(self)) + Array("\n".utf8), to: Self.path(root: root), mode: 0o644)
        } catch let error as FileSyncError {
            throw FileSyncError(.storageFailed, error.message)
        }
    }

    /// The flags the server serving `root` recorded; empty when it recorded none.
    ///
    /// - Throws: `invalidSetting` naming the file when it cannot be read or is not valid.
    public static func load(root: String) throws -> RetentionOverrides {
        let path = path(root: root)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return RetentionOverrides() }
            throw FileSyncError(.invalidSetting, "cannot read \(path)", errno: errno)
        }
        defer { close(fd) }
        guard let bytes = readPrefix(fd, upTo: 1 << 16) else {
            throw FileSyncError(.invalidSetting, "cannot read \(path)", errno: errno)
        }
        let overrides: RetentionOverrides
        do {
            overrides = try JSONDecoder().decode(RetentionOverrides.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw FileSyncError(.invalidSetting, "\(path) is not valid: \(error.shortDescription)")
        }
        let counts = [
            overrides.keepLast, overrides.keepHourly, overrides.keepDaily, overrides.keepWeekly,
            overrides.keepMonthly, overrides.keepYearly,
        ]
        guard counts.allSatisfy({ ($0 ?? 0) >= 0 }) else {
            throw FileSyncError(.invalidSetting, "\(path) holds a negative count")
        }
        return overrides
    }
}

extension RetentionPolicy {
    /// The counts in words, as `prune` prints them: `last 10, hourly 48, daily 14, …`.
    public var summary: String {
        "last \(keepLast), hourly \(keepHourly), daily \(keepDaily), weekly \(keepWeekly), "
            + "monthly \(keepMonthly), yearly \(keepYearly)"
    }
}
