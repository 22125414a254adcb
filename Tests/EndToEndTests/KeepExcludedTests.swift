import FileSyncCore
import Foundation
import Testing

extension EndToEnd {
    /// `keepExcluded` (Protocol.md §6.5): a mirroring backup keeps the paths the client excluded.
    @Suite("Deletions that keep excluded paths") struct KeepExcludedTests {
        static let content = Array("data".utf8)

        static func entry(_ path: String, folder: Bool = false) -> ManifestEntry {
            ManifestEntry(
                path: path, type: folder ? .dir : .file, size: folder ? 0 : Int64(content.count), mtimeNs: 1,
                mode: folder ? 0o755 : 0o644)
        }

        /// One raw backup session of `entries` (files get ``content``), asking to keep `keeping`
        /// (HELLO's flag, then DONE's paths); returns its NEXT_SYNC, or the ERROR that ended it.
        static func session(
            _ setup: HostileSessionTests.Setup, entries: [ManifestEntry], capabilities: [String],
            keeping: [String]? = nil, rules: [ExcludeRuleSet]? = nil
        ) throws -> Message? {
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(
                id: "keep", server: setup.server, folder: setup.work, capabilities: capabilities,
                keepingExcluded: keeping == nil ? nil : true)
            let answer = try raw.receiveSkippingQueue()
            guard case .ready(let ready)? = answer else { return answer }
            #expect(
                ready.capabilities
                    == capabilities.filter { [Capability.keepExcluded, Capability.excludeRules].contains($0) })
            try raw.send(.filesInfo(FilesInfo(entries: entries, final: true)))
            guard case .tasks(let tasks)? = try raw.receive() else { throw TestFailure("no TASKS") }
            for task in tasks.tasks { try XattrTests.sendFile(task.path, content, over: raw) }
            try raw.send(.done(Done(excluded: keeping, excludeRules: rules)))
            while let message = try raw.receive() {
                switch message {
                case .nextSync, .error: return message
                default: continue
                }
            }
            return nil
        }

        @Test("kept paths and what is below them outlive the deletions; an old-capability session deletes nothing")
        func keepsExcludedPaths() throws {
            let setup = try HostileSessionTests.Setup("keep-excluded")
            let all = [
                Self.entry("a.txt"), Self.entry("gone.txt"), Self.entry("keep", folder: true),
                Self.entry("keep/x.txt"),
            ]
            _ = try Self.session(setup, entries: all, capabilities: [])
            let stored = setup.root + "/keep/"
            #expect(FileManager.default.fileExists(atPath: stored + "keep/x.txt"))

            // A session without keepExcluded ignores the field; its HELLO said mirrorDeletions false.
            guard
                case .nextSync(let old)? = try Self.session(
                    setup, entries: [Self.entry("a.txt")], capabilities: [], keeping: ["keep"])
            else { throw TestFailure("no NEXT_SYNC") }
            #expect(old.deleted == 0)
            #expect(FileManager.default.fileExists(atPath: stored + "gone.txt"))

            guard
                case .nextSync(let next)? = try Self.session(
                    setup, entries: [Self.entry("a.txt")], capabilities: [Capability.keepExcluded], keeping: ["keep"])
            else { throw TestFailure("no NEXT_SYNC") }
            #expect(next.deleted == 1)
            #expect(!FileManager.default.fileExists(atPath: stored + "gone.txt"))
            #expect(FileManager.default.fileExists(atPath: stored + "keep/x.txt"))
            #expect(FileManager.default.fileExists(atPath: stored + "a.txt"))
        }

        @Test("DONE.excludeRules keeps the stored paths the rules exclude; without excludeRules in force it is ignored")
        func keepsRuleExcludedPaths() throws {
            let setup = try HostileSessionTests.Setup("keep-rules")
            let all = [
                Self.entry("a.txt"), Self.entry("x.log"), Self.entry("d", folder: true), Self.entry("d/y.tmp"),
                Self.entry("d/z.txt"),
            ]
            _ = try Self.session(setup, entries: all, capabilities: [])
            let stored = setup.root + "/keep/"
            let rules = [
                ExcludeRuleSet(folder: "", root: true, text: "*.log\n"), ExcludeRuleSet(folder: "d", text: "*.tmp\n"),
            ]
            let left = [Self.entry("a.txt"), Self.entry("d", folder: true)]
            // keepExcluded alone: the rules are not read, and what they would keep goes.
            guard
                case .nextSync(let old)? = try Self.session(
                    setup, entries: left + [Self.entry("d/z.txt")], capabilities: [Capability.keepExcluded],
                    keeping: [], rules: rules)
            else { throw TestFailure("no NEXT_SYNC") }
            #expect(old.deleted == 2)
            #expect(!FileManager.default.fileExists(atPath: stored + "x.log"))

            _ = try Self.session(setup, entries: all, capabilities: [])
            let both = [Capability.keepExcluded, Capability.excludeRules]
            guard
                case .nextSync(let next)? = try Self.session(
                    setup, entries: left, capabilities: both, keeping: [], rules: rules)
            else { throw TestFailure("no NEXT_SYNC") }
            #expect(next.deleted == 1)
            #expect(!FileManager.default.fileExists(atPath: stored + "d/z.txt"))
            #expect(FileManager.default.fileExists(atPath: stored + "x.log"))
            #expect(FileManager.default.fileExists(atPath: stored + "d/y.tmp"))

            // Rules in a folder that is not a valid relative path end the session; nothing is deleted.
            let bad = [ExcludeRuleSet(folder: "../x", text: "*\n")]
            let answer = try Self.session(
                setup, entries: [Self.entry("a.txt")], capabilities: both, keeping: [], rules: bad)
            guard case .error? = answer else { throw TestFailure("not refused: \(String(describing: answer))") }
            #expect(FileManager.default.fileExists(atPath: stored + "x.log"))
        }

        @Test("rules that would take exponential time to match delete nothing and say why; the server goes on")
        func pathologicalRules() throws {
            let setup = try HostileSessionTests.Setup("keep-slow-rules")
            var deep: [ManifestEntry] = [Self.entry("a.txt")]
            var folder = ""
            for _ in 0..<40 {
                folder += folder.isEmpty ? "a" : "/a"
                deep.append(Self.entry(folder, folder: true))
            }
            deep.append(Self.entry(folder + "/f.txt"))
            _ = try Self.session(setup, entries: deep, capabilities: [])
            let slow = [ExcludeRuleSet(folder: "", root: true, text: "**/a/**/a/**/a/**/a/**/a/**/a/**/b\n")]
            guard
                case .nextSync(let next)? = try Self.session(
                    setup, entries: [Self.entry("a.txt")],
                    capabilities: [Capability.keepExcluded, Capability.excludeRules],
                    keeping: [], rules: slow)
            else { throw TestFailure("no NEXT_SYNC") }
            #expect(next.deleted == 0)
            #expect(
                next.deletionsSkipped?.contains("exclusion rules") == true,
                "\(String(describing: next.deletionsSkipped))")
            #expect(FileManager.default.fileExists(atPath: setup.root + "/keep/" + folder + "/f.txt"))
            try setup.normalBackupSucceeds()
        }

        @Test("a kept path that is not a valid relative path in DONE ends the session; nothing is deleted")
        func invalidKeptPath() throws {
            let setup = try HostileSessionTests.Setup("keep-invalid")
            _ = try Self.session(setup, entries: [Self.entry("a.txt"), Self.entry("b.txt")], capabilities: [])
            let answer = try Self.session(
                setup, entries: [Self.entry("a.txt")], capabilities: [Capability.keepExcluded], keeping: ["../etc"])
            guard case .error(let error)? = answer else {
                throw TestFailure("not refused: \(String(describing: answer))")
            }
            #expect(
                error.code == FileSyncError.Code.invalidPath.rawValue || error.code == "malformedMessage", "\(error)")
            #expect(FileManager.default.fileExists(atPath: setup.root + "/keep/b.txt"))
            #expect(setup.outsideRoot == ["precious.txt"])
            try setup.normalBackupSucceeds()
        }
    }
}
