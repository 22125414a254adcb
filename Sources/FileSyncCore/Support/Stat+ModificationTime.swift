#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension stat {
    /// The modification time as integer nanoseconds since the Unix epoch, as manifests carry it.
    public var mtimeNs: Int64 {
        #if canImport(Darwin)
            epochNanoseconds(seconds: st_mtimespec.tv_sec, nanoseconds: st_mtimespec.tv_nsec)
        #else
            epochNanoseconds(seconds: st_mtim.tv_sec, nanoseconds: st_mtim.tv_nsec)
        #endif
    }
}

/// Integer nanoseconds since the Unix epoch from a `timespec`'s two fields.
///
/// Modules that also import GRDB (the server) do not see the `stat.mtimeNs` extension in release
/// builds, so they call this directly.
public func epochNanoseconds(seconds: Int, nanoseconds: Int) -> Int64 {
    Int64(seconds) * 1_000_000_000 + Int64(nanoseconds)
}
