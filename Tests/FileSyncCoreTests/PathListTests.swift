import Testing

@testable import FileSyncCore

@Suite("Path list") struct PathListTests {
    @Test("paths come back as added, also across block ends and after appending another list")
    func blocks() throws {
        let paths = (0..<500).map { "folder \($0 % 7)/ünïcødé \($0)/file-\($0).bin" } + ["", "a", ""]
        var small = PathList(blockSize: 64)
        var standard = PathList()
        for path in paths {
            var bytes = path
            try bytes.withUTF8 {
                try small.append(UnsafeRawBufferPointer($0))
                try standard.append(UnsafeRawBufferPointer($0))
            }
        }
        #expect(small.count == paths.count)
        #expect(paths.indices.map(small.path(at:)) == paths)
        #expect(paths.indices.map(standard.path(at:)) == paths)
        #expect(paths.indices.map(small.byteCount(at:)) == paths.map(\.utf8.count))

        // Another list appended, itself in blocks that end elsewhere.
        var other = PathList(blockSize: 50)
        for path in paths.reversed() {
            var bytes = path
            try bytes.withUTF8 { try other.append(UnsafeRawBufferPointer($0)) }
        }
        try small.append(contentsOf: other)
        #expect(paths.indices.map { small.path(at: paths.count + $0) } == paths.reversed())
        #expect(small.withBytes(at: 3) { Array($0) } == Array(paths[3].utf8))
    }
}
