import FileSyncCore
import Testing

@Suite("Entry set") struct EntrySetTests {
    @Test("entries go in and out once each, the count follows, and a union holds both sides")
    func membership() {
        var set = EntrySet()
        let entries = [0, 1, 63, 64, 65, 1_000, 99_999]
        let inserted = entries.map { set.insert($0) }
        #expect(inserted.allSatisfy { $0 })
        let again = set.insert(64)
        #expect(!again, "already there")
        #expect(set.count == entries.count)
        #expect(set.entries == entries)
        #expect(!set.contains(2) && !set.contains(-1) && !set.contains(1_000_000))
        let removals = [set.remove(63), set.remove(63), set.remove(5_000_000)]
        #expect(removals == [true, false, false], "taken out once; then already out; never there")
        #expect(set.count == entries.count - 1)

        var other = EntrySet()
        other.insert(2)
        other.insert(64)
        other.insert(200_000)
        set.formUnion(other)
        #expect(set.entries == [0, 1, 2, 64, 65, 1_000, 99_999, 200_000])
        #expect(set.count == 8)
    }
}
