import FileSyncCore

extension SessionFeatures {
    /// The compression flags data and chunk frames may carry.
    var codecs: Frame.Flags {
        (contains(.deflate) ? Frame.Flags.deflated : []).union(contains(.zstd) ? .zstd : [])
    }
}
