import NIOPosix

/// The threads a process's storage work runs on: file writes, syncs (`syncfs`, `fsync`,
/// `fdatasync`), renames, directory walks and SQLite calls. They block, so they stay off the Swift
/// cooperative pool, whose few threads serve every connection; one shared pool for storage.
///
/// The server's sessions and the client's restores run with this as their task executor
/// preference, so their synchronous storage calls happen here; storage actors, one-off jobs
/// (``run(_:)``) and background work (``submit(_:)``) use it too.
public final class StorageExecutor: TaskExecutor {
    /// The pool every session and storage actor of the process shares.
    public static let shared = StorageExecutor(threads: 4)

    private let pool: NIOThreadPool

    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs blocking `body` on the pool and returns its result; throws if the pool is stopping.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// Starts blocking `body` on the pool without waiting for it.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        pool.submit { _ in body() }
    }
}
