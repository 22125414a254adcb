import FileSyncCore
import FileSyncSystem
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Errors with an errno cause") struct FileSyncErrorErrnoTests {
    @Test("a failed system call keeps its errno typed beside the text that names it")
    func typedCause() {
        let error = FileSyncError(.storageFailed, "cannot write \"a\"", errno: ENOSPC)
        #expect(error.cause == .errno(ENOSPC))
        #expect(error.errnoValue == ENOSPC)
        #expect(error.message == "cannot write \"a\": \(FileSyncError.errnoText(ENOSPC))")
        #expect(FileSyncError.errnoText(ENOSPC) != FileSyncError.errnoText(EACCES))
    }

    @Test("an error that did not come from a system call has no cause")
    func noCause() {
        let error = FileSyncError(.malformedMessage, "bad")
        #expect(error.cause == nil)
        #expect(error.errnoValue == nil)
        #expect(error.description == "bad [malformedMessage]")
    }
}
