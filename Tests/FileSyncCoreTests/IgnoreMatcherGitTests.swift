import FileSyncCore
import Foundation
import TestSupport
import Testing

/// The `.filesyncignore` matcher against git itself: a generated tree of at least 500 paths, rule
/// files in several folders with at least 60 patterns between them, and root rules (as
/// `--exclude-from`, which git reads as `.git/info/exclude`); `git check-ignore --no-index` must
/// agree on every path.
@Suite("Ignore matcher against git")
struct IgnoreMatcherGitTests {
    static let names = [
        "a", "b", "abc", "aXc", "foo", "bar", "build", "node_modules", "x.log", "keep.log", "y.tmp", "Doc1", "doc2",
        "doc10", "[x]", "#hash", "!bang", "sp ace ", "a b", ".hidden", "c.o", "lib", "src", "deep", "cache", "v1.2",
        "Makefile", "README.md", "data.bin", "z*", "q?",
    ]

    /// Pieces patterns are made of: every feature of the syntax.
    static let pieces = [
        "a", "b", "foo", "bar", "build", "node_modules", "*.log", "keep.log", "*.tmp", "doc?", "doc[0-9]", "[Dd]oc*",
        "[!a]", "[^b]", "[!a-c]*.log", "[^x]*.tmp", "[[:digit:]]*", "[[:upper:]]*", "\\#hash", "\\!bang", "sp ace\\ ",
        "a b",
        ".hidden", "*.o", "lib", "src", "deep", "cache", "v1.?", "a*c", "*X*", "\\[x]", "[[]x]", "z\\*", "q\\?",
        "*.md", "Make*", "d*p", "??",
    ]

    struct Entry {
        var path: String
        var isFolder: Bool
    }

    @Test("git check-ignore --no-index and the matcher agree on every path of a generated corpus")
    func agreesWithGit() throws {
        var random = SeededGenerator(seed: 21)
        let corpus = Self.tree(using: &random)
        #expect(corpus.count >= 500)
        let folders = [""] + corpus.filter(\.isFolder).map(\.path)
        var rules: [String: IgnoreRules] = [:]
        var texts: [String: String] = [:]
        var patternCount = 0
        for folder in [""] + folders.dropFirst().shuffled(using: &random).prefix(9) {
            let lines = (0..<Int.random(in: 5...12, using: &random)).map { _ in Self.pattern(using: &random) }
            patternCount += lines.count
            let text = (Self.comments + lines).joined(separator: "\n") + "\n"
            texts[folder] = text
            rules[folder] = IgnoreRules(text: text, folder: folder)
        }
        let rootLines = (0..<8).map { _ in Self.pattern(using: &random) }
        patternCount += rootLines.count
        #expect(patternCount >= 60)
        let rootRules = IgnoreRules(text: rootLines.joined(separator: "\n"), folder: "")

        let ignoredByGit = try Self.gitIgnored(corpus, ruleFiles: texts, rootRules: rootLines)
        var disagreements: [String] = []
        var ignoredCount = 0
        for entry in corpus {
            let ours = IgnoreMatcher.isExcluded(
                entry.path, isFolder: entry.isFolder, rootRules: rootRules, rules: { rules[$0] })
            if ours { ignoredCount += 1 }
            if ours != ignoredByGit.contains(entry.path) {
                disagreements.append("\(entry.path)\(entry.isFolder ? "/" : ""): git \(!ours), matcher \(ours)")
            }
        }
        #expect(
            disagreements.isEmpty,
            "\(disagreements.count) disagreements:\n\(disagreements.joined(separator: "\n"))\nrules: \(texts)\nroot: \(rootLines)"
        )
        // The corpus exercises both outcomes broadly.
        #expect(ignoredCount > corpus.count / 20 && ignoredCount < corpus.count * 19 / 20, "\(ignoredCount)")
    }

    /// Comments, blank lines and lines of spaces, which are no patterns.
    static let comments = ["# a comment", "", "   ", "#*"]

    /// A random pattern: an optional `!`, an optional leading `/`, one to three pieces joined by `/`
    /// (or a `**/` before, or `/**` after), an optional trailing `/`.
    static func pattern(using random: inout SeededGenerator) -> String {
        var parts = (0..<Int.random(in: 1...3, using: &random)).map { _ in pieces.randomElement(using: &random)! }
        switch Int.random(in: 0..<10, using: &random) {
        case 0: parts.insert("**", at: 0)
        case 1: parts.append("**")
        case 2 where parts.count > 1: parts.insert("**", at: 1)
        default: break
        }
        var text = parts.joined(separator: "/")
        if Int.random(in: 0..<4, using: &random) == 0 { text = "/" + text }
        if Int.random(in: 0..<4, using: &random) == 0 { text += "/" }
        if Int.random(in: 0..<5, using: &random) == 0 { text = "!" + text }
        if Int.random(in: 0..<8, using: &random) == 0 { text += "  " }
        return text
    }

    /// A tree of folders up to four deep (about 1,000 entries) with files in them.
    static func tree(using random: inout SeededGenerator) -> [Entry] {
        var entries: [Entry] = []
        func fill(_ prefix: String, depth: Int) {
            let count = depth == 0 ? names.count : Int.random(in: 5...10, using: &random)
            for name in names.shuffled(using: &random).prefix(count) {
                let path = prefix.isEmpty ? name : prefix + "/" + name
                let folder = depth < 3 && Int.random(in: 0..<5, using: &random) < 2
                entries.append(Entry(path: path, isFolder: folder))
                if folder { fill(path, depth: depth + 1) }
            }
        }
        fill("", depth: 0)
        return entries
    }

    /// The paths of `corpus` that git says are ignored, with `ruleFiles` as `.gitignore` files and
    /// `rootRules` as `.git/info/exclude`, in a repository made for it.
    static func gitIgnored(_ corpus: [Entry], ruleFiles: [String: String], rootRules: [String]) throws -> Set<String> {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("ignore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        _ = try run(["git", "init", "-q", base.path], input: nil)
        for entry in corpus {
            let url = base.appendingPathComponent(entry.path)
            if entry.isFolder {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } else {
                try Data().write(to: url)
            }
        }
        for (folder, text) in ruleFiles {
            try Data(text.utf8).write(to: base.appendingPathComponent(folder).appendingPathComponent(".gitignore"))
        }
        try Data((rootRules.joined(separator: "\n") + "\n").utf8).write(
            to: base.appendingPathComponent(".git/info/exclude"))
        let input = corpus.map(\.path).joined(separator: "\0") + "\0"
        let output = try run(
            ["git", "-C", base.path, "check-ignore", "--no-index", "-z", "--stdin"], input: Data(input.utf8))
        return Set(output.split(separator: "\0").map(String.init))
    }

    /// Runs a command; its standard output. Exit status 0 and 1 (check-ignore: nothing ignored) pass.
    static func run(_ arguments: [String], input: Data?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardInput = stdin
        var environment = ProcessInfo.processInfo.environment
        // The user's or system's git configuration (a global excludes file) must not take part.
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["HOME"] = "/nonexistent"
        process.environment = environment
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus <= 1 else {
            throw IgnoreTestFailure("\(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    struct IgnoreTestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
