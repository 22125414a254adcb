import FileSyncCore
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Folder creation errors")
struct FolderCreationErrorTests {
    @Test(
        "each cause of a failed folder creation has its own code; others are storageFailed",
        arguments: [
            (EACCES, "permissionDenied"), (EPERM, "permissionDenied"), (EROFS, "permissionDenied"),
            (ENAMETOOLONG, "nameTooLong"), (ENOSPC, "noSpace"), (EDQUOT, "noSpace"), (EIO, "storageFailed"),
        ] as [(Int32, String)])
    func codes(errno code: Int32, expected: String) {
        let error = FileSyncError.folderCreation("a/b", errno: code)
        #expect(error.code.rawValue == expected)
        #expect(error.message.contains("\"a/b\""))
        #expect(error.cause == .errno(code))
    }
}
