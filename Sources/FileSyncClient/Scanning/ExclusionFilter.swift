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

    /// `--exclude-caches`: folders holding a `CACHEDIR.TAG` that starts with the Cache Directory
    /// Tagging Specification's signature are left out.
    public var excludeCaches = false
    /// `--one-file-system`: folders on another file system than the source's are kept as empty
    /// folders and not entered (their mount points stay), other entries there are left out.
    public var oneFileSystem = false
    /// The source's device, set by the scan when ``oneFileSystem`` is on.
    var sourceDevice: UInt64?

    public init(rootRules: IgnoreRules = IgnoreRules(patterns: [], folder: ""), maxFileSize: Int64? = nil) {
        self.rootRules = rootRules
        self.maxFileSize = maxFileSize
    }

    /// The signature line a cache folder's `CACHEDIR.TAG` starts with (bford.info/cachedir).
    static let cacheSignature = Array("Signature: 8a477f597d28d172789f06886806bc55".utf8)

    /// Whether the folder `name` of `directory` holds a valid `CACHEDIR.TAG`.
    static func isCacheFolder(_ name: String, in directory: Int32) -> Bool {
        let folder = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { return false }
        defer { close(folder) }
        guard let fd = RegularFile.openForReading("CACHEDIR.TAG", in: folder) else { return false }
        defer { close(fd) }
        return readPrefix(fd, upTo: cacheSignature.count) == cacheSignature
    }

    /// Whether an entry with `device` lies on another file system than the source (with
    /// ``oneFileSystem``).
    func crossesDevice(_ device: UInt64) -> Bool {
        guard oneFileSystem, let sourceDevice else { return false }
        return device != sourceDevice
    }

    /// The matcher at the source's root.
    var rootMatcher: IgnoreMatcher { IgnoreMatcher(rootRules: rootRules) }

    /// The matcher for the entries of the folder `prefix` (open as `directory`): `parent`'s, plus
    /// the folder's own rule file when its listing (`names`) has one; and that file's text.
    static func matcher(
        for directory: Int32, prefix: String, names: [String], parent: IgnoreMatcher
    ) -> (IgnoreMatcher, String?) {
        guard names.contains(ruleFileName), let text = readRuleFile(in: directory) else { return (parent, nil) }
        return (parent.entering(IgnoreRules(text: text, folder: prefix)), text)
    }

    /// The text of the folder's rule file, if it is a regular file that can be read.
    private static func readRuleFile(in directory: Int32) -> String? {
        guard let fd = RegularFile.openForReading(ruleFileName, in: directory) else { return nil }
        defer { close(fd) }
        return readPrefix(fd, upTo: maxRuleFileBytes).map { String(decoding: $0, as: UTF8.self) }
    }
}
