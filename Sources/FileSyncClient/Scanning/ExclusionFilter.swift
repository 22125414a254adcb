import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the scanner leaves out: paths matched by `.filesyncignore` files and the root rules
/// (`--exclude`, `--exclude-from`, gitignore syntax, ``IgnoreMatcher``), and files larger than
/// `--exclude-larger-than`. An excluded folder is not entered and an excluded file not opened.
public struct ExclusionFilter: Sendable {
    /// The name of the rule files read in every folder of the source.
    public static let ruleFileName = ".filesyncignore"
    /// The longest rule file read (a larger one is read up to this size).
    static let maxRuleFileBytes = 1 << 20

    /// The rules of `--exclude` and `--exclude-from`, applied at the source's root.
    public var rootRules: IgnoreRules
    /// Files larger than this many bytes are skipped (`--exclude-larger-than`).
    public var maxFileSize: Int64?

    public init(rootRules: IgnoreRules = IgnoreRules(patterns: [], folder: ""), maxFileSize: Int64? = nil) {
        self.rootRules = rootRules
        self.maxFileSize = maxFileSize
    }

    /// The matcher at the source's root.
    var rootMatcher: IgnoreMatcher { IgnoreMatcher(rootRules: rootRules) }

    /// The matcher for the entries of the folder `prefix` (open as `directory`): `parent`'s, plus
    /// the folder's own rule file when its listing (`names`) has one.
    static func matcher(
        for directory: Int32, prefix: String, names: [String], parent: IgnoreMatcher
    ) -> IgnoreMatcher {
        guard names.contains(ruleFileName), let text = readRuleFile(in: directory) else { return parent }
        return parent.entering(IgnoreRules(text: text, folder: prefix))
    }

    /// The text of the folder's rule file, if it is a regular file that can be read.
    private static func readRuleFile(in directory: Int32) -> String? {
        guard let fd = RegularFile.openForReading(ruleFileName, in: directory) else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: maxRuleFileBytes)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            count += got
        }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}
