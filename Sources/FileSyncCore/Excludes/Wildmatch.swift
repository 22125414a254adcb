/// Git's `wildmatch` (its `WM_PATHNAME` mode and its plain mode), over bytes: the glob matcher
/// of gitignore patterns, ported so that `.filesyncignore` files mean exactly what a
/// `.gitignore` would.
///
/// `*` matches any run of bytes but `/` (in pathname mode), `?` one byte but `/`, `[...]` a class
/// (`!` or `^` negates, `a-z` ranges, `[:alpha:]` and the other POSIX classes, `\` escapes), `**`
/// between slashes or at either end any number of folders, `\` makes the next byte literal.
enum Wildmatch {
    /// The outcome of matching, as git's: a plain miss, or a miss that no other split of the text
    /// can turn into a match (`abortAll`) or none short of the enclosing `**` (`abortToStarStar`).
    enum Outcome: Equatable {
        case match, noMatch, abortAll, abortToStarStar
    }

    /// Whether `pattern` matches the whole of `text`.
    static func matches(_ pattern: [UInt8], _ text: [UInt8], pathname: Bool) -> Bool {
        match(pattern[...], text[...], pathname: pathname) == .match
    }

    /// ``match(_:_:pathname:budget:)`` without a limit.
    static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>, pathname: Bool) -> Outcome {
        var budget = Int.max
        return match(pattern, text, pathname: pathname, budget: &budget)
    }

    private static let star = UInt8(ascii: "*")
    private static let slash = UInt8(ascii: "/")
    private static let backslash = UInt8(ascii: "\\")

    /// The byte at `index`, or 0 past the end (the C code's terminating NUL).
    private static func at(_ bytes: ArraySlice<UInt8>, _ index: Int) -> UInt8 {
        index < bytes.endIndex ? bytes[index] : 0
    }

    /// The match of `pattern` against `text`, spending a step of `budget` for each byte compared;
    /// once it is spent the answer is `abortAll` (a pattern with several `**` can take time
    /// exponential in the text's folders: a server matching a client's rules must stop).
    static func match(
        _ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>, pathname: Bool, budget: inout Int
    ) -> Outcome {
        var p = pattern.startIndex
        var t = text.startIndex
        while p < pattern.endIndex {
            budget -= 1
            if budget <= 0 { return .abortAll }
            var pc = pattern[p]
            let tc = at(text, t)
            if t >= text.endIndex && pc != star { return .abortAll }
            switch pc {
            case backslash:
                p += 1
                pc = at(pattern, p)
                if tc != pc { return .noMatch }
            case UInt8(ascii: "?"):
                if pathname && tc == slash { return .noMatch }
            case star:
                return matchStar(pattern, from: p, text, at: t, pathname: pathname, budget: &budget)
            case UInt8(ascii: "["):
                guard let (matched, end) = CharacterClass.match(pattern, openingAt: p, byte: tc) else {
                    return .abortAll
                }
                if !matched || (pathname && tc == slash) { return .noMatch }
                p = end
            default:
                if tc != pc { return .noMatch }
            }
            p += 1
            t += 1
        }
        return t < text.endIndex ? .noMatch : .match
    }

    /// The rest of a match from the `*` at `start` in the pattern and `t` in the text.
    private static func matchStar(
        _ pattern: ArraySlice<UInt8>, from start: Int, _ text: ArraySlice<UInt8>, at t: Int, pathname: Bool,
        budget: inout Int
    ) -> Outcome {
        var p = start + 1
        var matchSlash: Bool
        if at(pattern, p) == star {
            let previous = start - 1
            while at(pattern, p) == star { p += 1 }
            let next = at(pattern, p)
            if !pathname {
                matchSlash = true
            } else if (previous < pattern.startIndex || pattern[previous] == slash)
                && (p >= pattern.endIndex || next == slash || (next == backslash && at(pattern, p + 1) == slash))
            {
                // `**/` may match no folder at all: try the rest of the pattern right here.
                if next == slash
                    && match(pattern[(p + 1)...], text[t...], pathname: pathname, budget: &budget) == .match
                {
                    return .match
                }
                matchSlash = true
            } else {
                matchSlash = false
            }
        } else {
            matchSlash = !pathname
        }
        if p >= pattern.endIndex {
            // A trailing `**` matches everything; a trailing `*` only what holds no more slashes.
            if !matchSlash && text[t...].contains(slash) { return .noMatch }
            return .match
        }
        if !matchSlash && pattern[p] == slash {
            // One `*` then `/`: matches the rest of this folder's name.
            guard let nextSlash = text[t...].firstIndex(of: slash) else { return .noMatch }
            return match(pattern[p...], text[nextSlash...], pathname: pathname, budget: &budget)
        }
        return matchStarLoop(pattern, p, text, t, matchSlash: matchSlash, pathname: pathname, budget: &budget)
    }

    /// Tries the rest of the pattern at each position the `*` may end at.
    private static func matchStarLoop(
        _ pattern: ArraySlice<UInt8>, _ p: Int, _ text: ArraySlice<UInt8>, _ start: Int, matchSlash: Bool,
        pathname: Bool, budget: inout Int
    ) -> Outcome {
        var t = start
        while t < text.endIndex {
            budget -= 1
            if budget <= 0 { return .abortAll }
            let literal = pattern[p]
            if ![star, UInt8(ascii: "?"), UInt8(ascii: "["), backslash].contains(literal) {
                // What precedes the literal belongs to the `*`: skip to its next occurrence.
                while t < text.endIndex && (matchSlash || text[t] != slash) && text[t] != literal { t += 1 }
                if at(text, t) != literal { return .noMatch }
            }
            let outcome = match(pattern[p...], text[t...], pathname: pathname, budget: &budget)
            if outcome != .noMatch {
                if !matchSlash || outcome != .abortToStarStar { return outcome }
            } else if !matchSlash && text[t] == slash {
                return .abortToStarStar
            }
            t += 1
        }
        return .abortAll
    }
}
