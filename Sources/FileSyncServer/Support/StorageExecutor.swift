import NIOPosix

/// The threads the server's storage work runs on: file writes, syncs (`syncfs`, `fdatasync`),
/// renames, directory walks and the chunk catalog's SQLite calls. They block, so they stay off the
/// Swift cooperative pool, whose few threads serve every connection; one shared pool for storage.
///
/// Sessions run with this as their task executor preference, so their synchronous storage calls
/// happen here; storage actors (``BatchCommitter``) and one-off jobs (``run(_:)``) use it too.
final class StorageExecutor: TaskExecutor {
    /// The pool every session and storage actor shares.
    static let shared = StorageExecutor(threads: 4)

    private let pool: NIOThreadPool

    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs blocking `body` on the pool and returns its result; throws if the pool is stopping.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
