import FileSyncCore
import FileSyncServer
import Testing

@Suite("Path set") struct PathSetTests {
    @Test("every path added is found, the same bytes are refused twice, and the set grows past its first table")
    func membership() throws {
        var set = PathSet()
        let paths = (0..<5000).map { "d\($0 % 37)/f\($0).bin" } + ["", "ünïcødé/文件"]
        for path in paths { #expect(try set.insert(path)) }
        #expect(try !set.insert("d3/f3.bin"), "a path already held")
        #expect(try !set.insert("ünïcødé/文件"))
        #expect(set.count == paths.count)
        for path in paths { #expect(set.contains(path)) }
        #expect(paths.map { set.index(of: $0) } == Array(paths.indices), "positions in the order added")
        #expect(set.index(of: "d3/f3.bi") == nil)
        #expect(!set.contains("d3/f3.bi"))
        #expect(!set.contains("d3/f3.bin/"))
        #expect(!set.contains("ünïcødé"))
        #expect(!PathSet().contains("d3/f3.bin"))
    }
}
