import FileSyncClient
import FileSyncCore
import Testing

@Suite("Restore: folders the server cannot read")
struct RestoreUnreadableTests {
    func code(_ paths: [String]) -> FileSyncError.Code? {
        do {
            _ = try RestoreClient.unreadableFolders(paths)
            return nil
        } catch {
            return (error as? FileSyncError)?.code
        }
    }

    @Test("each named folder is a failure with code unreadable")
    func failures() throws {
        let failed = try RestoreClient.unreadableFolders(["docs", "photos/2024"])
        #expect(failed.map(\.path) == ["docs", "photos/2024"])
        #expect(failed.allSatisfy { $0.error?.code == "unreadable" })
    }

    @Test("at most 1,000, each a valid path, none twice")
    func bounds() {
        #expect(code((0..<RestoreList.maxUnreadable).map { "d\($0)" }) == nil)
        #expect(code((0...RestoreList.maxUnreadable).map { "d\($0)" }) == .limitExceeded)
        #expect(code(["../etc"]) == .invalidPath)
        #expect(code([""]) == .invalidPath)
        #expect(code(["docs", "docs"]) == .malformedMessage)
    }
}
