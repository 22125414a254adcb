import FileSyncCore
import Testing

@Suite("Counts in words")
struct PluralTests {
    @Test("counts say 1 file, 2 files, 0 files")
    func plural() {
        #expect(Plural.count(1, "file") == "1 file")
        #expect(Plural.count(2, "file") == "2 files")
        #expect(Plural.count(0, "file") == "0 files")
        #expect(Plural.count(1, "entry", "entries") == "1 entry")
        #expect(Plural.count(3, "entry", "entries") == "3 entries")
    }
}
