/// A bracket expression of a glob (`[a-z]`, `[!0-9]`, `[^x]`, `[[:alpha:]_]`, `[]]`), matched as
/// git's wildmatch matches it.
enum CharacterClass {
    /// Whether `byte` is in the class opening at `start` in `pattern`, and the index of its closing
    /// `]`; `nil` when the class is malformed (no closing bracket, an unknown `[:name:]`), which
    /// fails the whole pattern.
    static func match(_ pattern: ArraySlice<UInt8>, openingAt start: Int, byte: UInt8) -> (Bool, Int)? {
        var p = start + 1
        func at(_ index: Int) -> UInt8 { index < pattern.endIndex ? pattern[index] : 0 }
        var pc = at(p)
        let negated = pc == UInt8(ascii: "!") || pc == UInt8(ascii: "^")
        if negated {
            p += 1
            pc = at(p)
        }
        var previous: UInt8 = 0
        var matched = false
        repeat {
            if pc == 0 { return nil }
            if pc == UInt8(ascii: "\\") {
                p += 1
                pc = at(p)
                if pc == 0 { return nil }
                if byte == pc { matched = true }
            } else if pc == UInt8(ascii: "-") && previous != 0 && at(p + 1) != 0 && at(p + 1) != UInt8(ascii: "]") {
                p += 1
                pc = at(p)
                if pc == UInt8(ascii: "\\") {
                    p += 1
                    pc = at(p)
                    if pc == 0 { return nil }
                }
                if byte <= pc && byte >= previous { matched = true }
                pc = 0
            } else if pc == UInt8(ascii: "[") && at(p + 1) == UInt8(ascii: ":") {
                let nameStart = p + 2
                var end = nameStart
                while at(end) != 0 && at(end) != UInt8(ascii: "]") { end += 1 }
                if at(end) == 0 { return nil }
                if end - nameStart - 1 < 0 || at(end - 1) != UInt8(ascii: ":") {
                    // No ":]": the `[` is an ordinary member.
                    if byte == UInt8(ascii: "[") { matched = true }
                } else {
                    let name = String(decoding: pattern[nameStart..<(end - 1)], as: UTF8.self)
                    guard let member = posixClass(name) else { return nil }
                    if member(byte) { matched = true }
                    p = end
                    pc = 0
                }
            } else if byte == pc {
                matched = true
            }
            previous = pc
            p += 1
            pc = at(p)
        } while pc != UInt8(ascii: "]")
        return (matched != negated, p)
    }

    /// The test of a POSIX class name (`alpha`, `digit`, ...) in the C locale.
    private static func posixClass(_ name: String) -> ((UInt8) -> Bool)? {
        func inRange(_ byte: UInt8, _ low: Character, _ high: Character) -> Bool {
            byte >= low.asciiValue! && byte <= high.asciiValue!
        }
        let upper: (UInt8) -> Bool = { inRange($0, "A", "Z") }
        let lower: (UInt8) -> Bool = { inRange($0, "a", "z") }
        let digit: (UInt8) -> Bool = { inRange($0, "0", "9") }
        let alpha: (UInt8) -> Bool = { upper($0) || lower($0) }
        let graph: (UInt8) -> Bool = { $0 > 32 && $0 < 127 }
        switch name {
        case "alnum": return { alpha($0) || digit($0) }
        case "alpha": return alpha
        case "blank": return { $0 == 32 || $0 == 9 }
        case "cntrl": return { $0 < 32 || $0 == 127 }
        case "digit": return digit
        case "graph": return graph
        case "lower": return lower
        case "print": return { $0 >= 32 && $0 < 127 }
        case "punct": return { graph($0) && !alpha($0) && !digit($0) }
        case "space": return { [9, 10, 11, 12, 13, 32].contains($0) }
        case "upper": return upper
        case "xdigit": return { digit($0) || inRange($0, "a", "f") || inRange($0, "A", "F") }
        default: return nil
        }
    }
}
