import CFileSyncShims

/// How the C allocator keeps the large buffers a transfer allocates and frees for every frame.
///
/// A transfer allocates and frees buffers of about 1 MiB all the time (frame reassembly, TLS
/// records, blocks). With glibc's defaults, an arena whose free top grows past a few MiB hands the
/// pages back to the kernel, and the next buffer faults them in again zeroed; sometimes such a
/// buffer is mapped and unmapped on its own. A restore then spent about a third of its CPU time in
/// the kernel doing that. Raising both thresholds keeps such buffers in the heap and the freed
/// pages for the next one; peak memory is unchanged, and what stays resident is bounded by the
/// trim threshold per arena. The restore client uses it; the server and the backup client gained
/// little from it in measurements and keep glibc's defaults. ``releaseFreedMemory()`` returns what
/// is free when the server goes idle.
public enum HeapTuning {
    /// Buffers below this size come from the heap, never from a mapping of their own.
    public static let mapThreshold: Int32 = 32 << 20
    /// Free memory at an arena's top is handed back to the kernel only beyond this.
    public static let trimThreshold: Int32 = 64 << 20

    /// Sets the thresholds above for the whole process. Returns whether the C library took them
    /// (glibc does; elsewhere nothing changes).
    @discardableResult
    public static func keepTransferBuffers() -> Bool {
        filesync_tune_heap(mapThreshold, trimThreshold) == 1
    }

    /// Hands every arena's free memory back to the kernel (after a session, so that an idle
    /// server does not keep its last session's peak resident).
    public static func releaseFreedMemory() {
        filesync_release_free_memory()
    }
}
