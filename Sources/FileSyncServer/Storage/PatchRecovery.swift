import FileSyncSystem
import Logging
import ServiceLifecycle

/// Completes the in-place patches a crash interrupted (Protocol.md §6.8), once at start: a
/// `Service` that finishes when done. ``BackupServer`` accepts no session before.
public final class PatchRecovery: Service, Sendable {
    private let root: String
    private let logger: Logger
    private let done = Latch()

    public init(root: String, logger: Logger) {
        self.root = root
        self.logger = logger
    }

    public func run() async throws {
        let (root, logger) = (root, logger)
        do {
            try await StorageExecutor.shared.run { InPlacePatch.recoverAll(root: root, logger: logger) }
        } catch {
            logger.error("interrupted patches not completed", metadata: ["error": "\(error)"])
        }
        await done.open()
    }

    /// Returns once ``run()`` is done.
    func finished() async {
        await done.wait()
    }
}
