import FileSyncCore
import Testing

@Suite("Kept paths")
struct KeptPathsTests {
    @Test("a kept path keeps itself and what is below it, and the folders above it; nothing else")
    func covers() throws {
        let kept = try KeptPaths(validating: ["a/node_modules", "x.log"])
        #expect(kept.covers("a/node_modules") && kept.covers("a/node_modules/p/q.js") && kept.covers("x.log"))
        #expect(!kept.covers("a") && !kept.covers("a/node_modules2") && !kept.covers("b/x.log"))
        #expect(kept.keeps("a") && !kept.keeps("b"))
        #expect(!KeptPaths.none.covers("anything"))
    }

    @Test("a slash followed by a combining mark is still a slash (the path is split by bytes)")
    func combiningMarkAfterSlash() throws {
        let kept = try KeptPaths(validating: ["x"])
        #expect(kept.covers("x/\u{301}y/z"))
        #expect(KeptPaths.parent(of: "x/\u{301}y") == "x")
    }

    @Test("more than the limit, or a path that is not relative, is refused")
    func bounds() {
        #expect(throws: FileSyncError.self) { try KeptPaths(validating: ["../etc"]) }
        #expect(throws: FileSyncError.self) { try KeptPaths(validating: ["/etc"]) }
        let many = (0...ProtocolLimits.maxKeptPaths).map { "f\($0)" }
        #expect(throws: FileSyncError.self) { try KeptPaths(validating: many) }
    }
}
