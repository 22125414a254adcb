import CFileSyncShims

/// Process-wide allocator settings for long streams of large buffers.
public enum HeapTuning {
    /// Serves buffers of 256 KiB and more from their own mappings, returned to the system when freed.
    ///
    /// glibc raises its mapping threshold each time such a buffer is freed, after which 1 MiB frame
    /// buffers come from per-thread arenas that keep their freed memory: a restore receiving a
    /// gigabyte then holds tens of megabytes it no longer uses. Call once, before the transfer starts.
    public static func returnLargeBuffersWhenFreed() {
        _ = filesync_set_mmap_threshold(256 << 10)
    }
}
