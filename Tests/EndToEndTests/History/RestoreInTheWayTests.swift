import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// A file or symlink where the snapshot has a folder: without `--overwrite` the restore is
    /// refused naming that path alone; with it, the file or link gives way and the folder and what
    /// it holds are restored (a link is removed, never followed).
    @Suite("Restore over something in a folder's way") struct RestoreInTheWayTests {
        @Test("a file and a symlink where folders go: refused naming them alone; replaced with --overwrite")
        func nonFoldersGiveWay() throws {
            let work = try TemporaryDirectory("restore-in-the-way")
            let source = try work.subfolder("source")
            let outside = try work.subfolder("outside")
            for folder in ["a", "b"] {
                try FileManager.default.createDirectory(
                    atPath: source + "/\(folder)/deep", withIntermediateDirectories: true)
                try SampleTree.write(Array("in \(folder)".utf8), to: source + "/\(folder)/deep/f.txt")
            }
            let server = try ServerProcess(root: try work.subfolder("root"), in: work)
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "way")

            let target = try work.subfolder("target")
            try SampleTree.write(Array("blocker".utf8), to: target + "/a")
            #expect(symlink(outside, target + "/b") == 0)
            let refused = try client.restore(id: "way", to: target)
            #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
            let conflicts = (try refused.json()["conflicts"] as? [String]) ?? []
            #expect(Set(conflicts) == ["a", "b"], "\(refused.stdout)")

            let replaced = try client.restore(id: "way", to: target, ["--overwrite"])
            #expect(replaced.status == 0, "\(replaced.stdout)\(replaced.stderr)")
            for folder in ["a", "b"] {
                #expect(
                    FileManager.default.contents(atPath: target + "/\(folder)/deep/f.txt") == Data("in \(folder)".utf8))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, "written through the link")
        }
    }
}
