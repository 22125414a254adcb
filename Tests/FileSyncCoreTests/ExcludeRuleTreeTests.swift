import FileSyncCore
import Testing

@Suite("Exclusion rules on the server (DONE.excludeRules)")
struct ExcludeRuleTreeTests {
    @Test("root rules, a deeper .filesyncignore that wins, and folder-only patterns decide as the scan does")
    func singleSource() throws {
        let tree = try ExcludeRuleTree(validating: [
            ExcludeRuleSet(folder: "", root: true, text: "*.log\nbuild/\n"),
            ExcludeRuleSet(folder: "docs", text: "!keep.log\n*.tmp\n"),
        ])
        #expect(tree.excludes("x.log", isFolder: false))
        #expect(tree.excludes("a/b/x.log", isFolder: false))
        #expect(!tree.excludes("docs/keep.log", isFolder: false), "a deeper negation wins over the root rules")
        #expect(tree.excludes("docs/other.log", isFolder: false))
        #expect(tree.excludes("docs/t.tmp", isFolder: false) && !tree.excludes("t.tmp", isFolder: false))
        #expect(tree.excludes("build", isFolder: true) && !tree.excludes("build", isFolder: false))
        #expect(tree.excludes("src/build/out/o.bin", isFolder: false), "below an excluded folder")
        #expect(!tree.excludes("src/main.c", isFolder: false))
        #expect(!ExcludeRuleTree.none.excludes("x.log", isFolder: false))
    }

    @Test("the same rules decide as the client's matcher walking the same paths")
    func agreesWithTheMatcher() throws {
        let root = IgnoreRules(text: "*.o\n/top.txt\ncache/\n!important.o\n", folder: "")
        let files = [
            "lib": IgnoreRules(text: "*.a\n!keep.o\n", folder: "lib"),
            "lib/x": IgnoreRules(text: "*\n", folder: "lib/x"),
        ]
        let tree = try ExcludeRuleTree(validating: [
            ExcludeRuleSet(folder: "", root: true, text: root.text),
            ExcludeRuleSet(folder: "lib", text: files["lib"]!.text),
            ExcludeRuleSet(folder: "lib/x", text: files["lib/x"]!.text),
        ])
        let paths = [
            "a.o", "important.o", "top.txt", "sub/top.txt", "cache", "sub/cache/c", "lib/m.a", "lib/keep.o", "lib/n.o",
            "lib/x/any", "lib/y/z.a", "readme",
        ]
        for path in paths {
            for isFolder in [false, true] {
                let expected = IgnoreMatcher.isExcluded(path, isFolder: isFolder, rootRules: root) { files[$0] }
                #expect(tree.excludes(path, isFolder: isFolder) == expected, "\(path) folder: \(isFolder)")
            }
        }
    }

    @Test("with several sources, each source's root rules apply below its own folder only")
    func severalSources() throws {
        let tree = try ExcludeRuleTree(validating: [
            ExcludeRuleSet(folder: "photos", root: true, text: "/raw/\n"),
            ExcludeRuleSet(folder: "docs", root: true, text: "/raw/\n"),
            ExcludeRuleSet(folder: "docs/old", text: "*.bak\n"),
        ])
        #expect(tree.excludes("photos/raw/a.cr2", isFolder: false))
        #expect(!tree.excludes("photos/2024/raw", isFolder: true), "anchored at the source's root")
        #expect(tree.excludes("docs/old/a.bak", isFolder: false) && !tree.excludes("photos/a.bak", isFolder: false))
        #expect(!tree.excludes("photos", isFolder: true), "a source's own folder is never excluded")
    }

    @Test("a folder that is not a relative path, a folder named twice, or too much is refused")
    func bounds() {
        #expect(throws: FileSyncError.self) {
            try ExcludeRuleTree(validating: [ExcludeRuleSet(folder: "../x", text: "*")])
        }
        #expect(throws: FileSyncError.self) {
            try ExcludeRuleTree(validating: [ExcludeRuleSet(folder: "/etc", text: "*")])
        }
        #expect(throws: FileSyncError.self) {
            try ExcludeRuleTree(validating: [
                ExcludeRuleSet(folder: "a", text: "x"), ExcludeRuleSet(folder: "a", text: "y"),
            ])
        }
        let many = (0...ExcludeRuleSet.maxSets).map { ExcludeRuleSet(folder: "f\($0)", text: "x") }
        #expect(throws: FileSyncError.self) { try ExcludeRuleTree(validating: many) }
        let big = String(repeating: "x", count: ExcludeRuleSet.maxTotalBytes + 1)
        #expect(throws: FileSyncError.self) { try ExcludeRuleTree(validating: [ExcludeRuleSet(folder: "", text: big)]) }
        #expect(
            (try? ExcludeRuleTree(validating: [
                ExcludeRuleSet(folder: "a", root: true, text: "x"), ExcludeRuleSet(folder: "a", text: "y"),
            ])) != nil)
    }

    @Test("a pattern whose matching would take exponential time spends its budget and stops")
    func pathologicalPattern() throws {
        let tree = try ExcludeRuleTree(validating: [
            ExcludeRuleSet(folder: "", root: true, text: "**/a/**/a/**/a/**/a/**/a/**/a/**/b\n")
        ])
        let path = Array(repeating: "a", count: 200).joined(separator: "/")
        var budget = ExcludeRuleTree.stepBudget
        _ = tree.excludes(path, isFolder: false, budget: &budget)
        #expect(budget <= 0)
        var ordinary = ExcludeRuleTree.stepBudget
        #expect(!tree.excludes("a/a/c", isFolder: false, budget: &ordinary) && ordinary > 0)
    }

    @Test("a source's root rules below a folder, or a single source's mixed with named ones, are refused")
    func rootShapes() {
        #expect(throws: FileSyncError.self) {
            try ExcludeRuleTree(validating: [ExcludeRuleSet(folder: "a/b", root: true, text: "x")])
        }
        #expect(throws: FileSyncError.self) {
            try ExcludeRuleTree(validating: [
                ExcludeRuleSet(folder: "", root: true, text: "x"), ExcludeRuleSet(folder: "a", root: true, text: "y"),
            ])
        }
    }
}
