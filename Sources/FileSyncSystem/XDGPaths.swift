import Foundation

/// The XDG base directories (the XDG Base Directory Specification), resolved once for everyone:
/// a variable that is unset, empty or not an absolute path counts as unset, as the specification
/// says, so an empty `XDG_CACHE_HOME` never turns into a cache at `/filesync`.
public struct XDGPaths: Sendable, Equatable {
    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    public var configHome: String
    /// `$XDG_CACHE_HOME`, else `~/.cache`.
    public var cacheHome: String
    /// `$XDG_STATE_HOME`, else `~/.local/state`.
    public var stateHome: String
    /// `$XDG_RUNTIME_DIR`, or `nil` when it is not set.
    public var runtimeDirectory: String?

    /// The directories for `environment`; `home` is used for the defaults.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, home: String = NSHomeDirectory()
    ) {
        func value(_ name: String) -> String? {
            guard let value = environment[name], value.hasPrefix("/") else { return nil }
            return value
        }
        configHome = value("XDG_CONFIG_HOME") ?? home + "/.config"
        cacheHome = value("XDG_CACHE_HOME") ?? home + "/.cache"
        stateHome = value("XDG_STATE_HOME") ?? home + "/.local/state"
        runtimeDirectory = value("XDG_RUNTIME_DIR")
    }

    /// filesync's folder in the configuration home.
    public var config: String { configHome + "/filesync" }
    /// filesync's folder in the cache home.
    public var cache: String { cacheHome + "/filesync" }
    /// filesync's folder for runtime files (locks): in `$XDG_RUNTIME_DIR` if set, else the cache.
    public var runtime: String { (runtimeDirectory ?? cacheHome) + "/filesync" }
}
