import FileSyncSystem
import Foundation
import Testing

@testable import FileSyncClient

@Suite("Source lock")
struct SourceLockTests {
    @Test("with XDG_RUNTIME_DIR and XDG_CACHE_HOME empty (unset, per the XDG spec) the lock is in ~/.cache/filesync")
    func emptyVariablesMeanUnset() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let paths = XDGPaths(environment: ["XDG_RUNTIME_DIR": "", "XDG_CACHE_HOME": ""], home: home)
        let lock = try SourceLock(source: home, paths: paths)
        #expect(lock.path.hasPrefix(home + "/.cache/filesync/source-"))
        #expect(throws: SourceLock.Busy.self) { try SourceLock(source: home, paths: paths) }
    }
}
