import Testing

@testable import FileSyncServer

@Suite("Claimed owners")
struct ClaimedOwnersTests {
    @Test("each listed path has the owner its entry claimed; a path the manifest did not list has none")
    func listedPathsOnly() throws {
        var owners = ClaimedOwners()
        #expect(owners.isEmpty)
        owners.record(path: "a", uid: 1000, gid: 1000)
        owners.record(path: "a/b", uid: 1000, gid: 1000)
        owners.record(path: "c", uid: 0, gid: 5)
        owners.record(path: "d", uid: nil, gid: nil)
        var paths = PathSet()
        for path in ["a", "a/b", "c", "d"] { _ = try paths.insert(path) }
        let listed = owners.listing(paths)
        #expect(listed.owner(of: "a/b") == .init(uid: 1000, gid: 1000))
        #expect(listed.owner(of: "c") == .init(uid: 0, gid: 5))
        #expect(listed.owner(of: "kept-on-the-server") == nil)
    }
}
