import Testing

@testable import FileSyncCore

@Suite("Block array") struct BlockArrayTests {
    @Test("elements come back as appended, across several blocks, one by one or from a sequence")
    func appendAndRead() {
        var array = BlockArray<Int64>()
        #expect(array.isEmpty && array.last == nil)
        let total = 2 * BlockArray<Int64>.blockLength + 1234
        for value in 0..<Int64(total / 2) { array.append(value * 3) }
        array.append(contentsOf: (Int64(total / 2)..<Int64(total)).map { $0 * 3 })
        #expect(array.count == total)
        #expect((0..<total).allSatisfy { array[$0] == Int64($0) * 3 })
        #expect(array.last == Int64(total - 1) * 3)
    }
}
