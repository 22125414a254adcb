import FileSyncCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Excludes") struct ExcludeTests {
        @Test(
            ".filesyncignore files, --exclude and --exclude-larger-than leave paths out; excluded folders are not entered"
        )
        func excludes() throws {
            let work = try TemporaryDirectory("exclude")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            for path in [
                "keep.txt", "debug.log", "node_modules/pkg/index.js", "src/main.swift", "src/gen/out.o",
                "src/keep.log", "docs/a.tmp", "docs/readme.md", "big.bin",
            ] {
                try Self.write("x", to: source + "/" + path)
            }
            try SampleTree.write([UInt8](repeating: 7, count: 20_000), to: source + "/big.bin")
            try SampleTree.write(Array("*.log\nnode_modules/\n".utf8), to: source + "/.filesyncignore")
            // A deeper file's rules win: src/keep.log is re-included.
            try SampleTree.write(Array("!keep.log\ngen/\n".utf8), to: source + "/src/.filesyncignore")
            // A name that cannot be backed up (not UTF-8) inside an excluded folder: the folder is not
            // listed, so no warning names it.
            let bad: [UInt8] = Array((source + "/node_modules/pkg/bad-").utf8) + [0xFF, 0]
            let fd = bad.withUnsafeBufferPointer {
                $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
            }
            try #require(fd >= 0)
            close(fd)
            let server = try ServerProcess(root: root, in: work)
            let result = try runClient(
                ["--source", source, "--id", "ex", "--exclude", "*.tmp", "--exclude-larger-than", "10K", "--json"]
                    + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            let stored = root + "/ex"
            for present in ["keep.txt", "src/main.swift", "src/keep.log", "docs/readme.md", ".filesyncignore"] {
                #expect(FileManager.default.fileExists(atPath: stored + "/" + present), "\(present) missing")
            }
            for absent in ["debug.log", "node_modules", "src/gen", "docs/a.tmp", "big.bin"] {
                #expect(!FileManager.default.fileExists(atPath: stored + "/" + absent), "\(absent) stored")
            }
            let summary = try result.json()
            #expect(summary["excluded"] as? Int == 5, "\(summary)")
            let warnings = summary["warnings"] as? [[String: Any]] ?? []
            #expect(warnings.count == 1 && warnings.first?["path"] as? String == "big.bin", "\(warnings)")
            #expect(!result.stderr.contains("bad-"), "\(result.stderr)")
        }

        @Test("--exclude-caches leaves out folders with a valid CACHEDIR.TAG, and only those")
        func excludeCaches() throws {
            let work = try TemporaryDirectory("caches")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let signature = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag.\n"
            try Self.write(signature, to: source + "/cache/CACHEDIR.TAG")
            try Self.write("cached", to: source + "/cache/blob")
            try Self.write("Signature: 0000\n", to: source + "/fake/CACHEDIR.TAG")
            try Self.write("kept", to: source + "/fake/blob")
            let server = try ServerProcess(root: root, in: work)
            let result = try runClient(
                ["--source", source, "--id", "c", "--exclude-caches"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/c/cache"))
            #expect(FileManager.default.fileExists(atPath: root + "/c/fake/blob"))
            #expect(result.stdout.contains("1 excluded"), "\(result.stdout)")
        }

        @Test("--one-file-system keeps a mount point as an empty folder and does not enter it")
        func oneFileSystem() throws {
            guard Harness.isRoot && Harness.hasUnshare else {
                print("skipped: mounting a tmpfs in a private mount namespace needs root and unshare")
                return
            }
            let work = try TemporaryDirectory("onefs")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.write("here", to: source + "/local.txt")
            try FileManager.default.createDirectory(atPath: source + "/mnt", withIntermediateDirectories: true)
            let server = try ServerProcess(root: root, in: work)
            // The tmpfs exists only in the client's own mount namespace.
            let script = """
                mount -t tmpfs none "$1/mnt" && echo elsewhere > "$1/mnt/other.txt" && shift && exec "$@"
                """
            let result = try Command.run(
                "/usr/bin/unshare",
                [
                    "-m", "--propagation", "private", "sh", "-c", script, "sh", source, Harness.client, "--source",
                    source,
                    "--id", "x", "-x", "--json",
                ] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/x/local.txt"))
            #expect(FileManager.default.fileExists(atPath: root + "/x/mnt"))
            #expect(!FileManager.default.fileExists(atPath: root + "/x/mnt/other.txt"))
            #expect(try result.json()["excluded"] as? Int == 1)
        }

        /// Writes `text` to `path`, creating its folders.
        static func write(_ text: String, to path: String) throws {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try SampleTree.write(Array(text.utf8), to: path)
        }

        @Test(
            "--delete keeps stored paths the rules exclude even once they are gone from the source (as rsync); a dry run agrees"
        )
        func deleteProtectsExcludedGoneFromSource() throws {
            let work = try TemporaryDirectory("exclude-gone")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let tree = [
                "a.txt", "b.txt", "notes.log", "cache/x.bin", "sub/t.tmp", "sub/keep.txt", "build", "proj/nm/m.js",
            ]
            for path in tree {
                try Self.write(path, to: source + "/" + path)
            }
            let server = try ServerProcess(root: root, in: work)
            let base = ["--source", source, "--id", "g"] + server.connect
            #expect(try runClient(base, in: work).status == 0)
            for path in ["b.txt", "notes.log", "cache", "sub/t.tmp", "build", "proj"] {
                try FileManager.default.removeItem(atPath: source + "/" + path)
            }
            try Self.write("*.tmp\n", to: source + "/sub/.filesyncignore")
            // `build/` names folders only: the stored file called build is deleted.
            // proj/ is gone but holds a kept folder: it stays, and the dry run does not list it.
            let rules = [
                "--delete", "--exclude", "cache/", "--exclude", "*.log", "--exclude", "build/", "--exclude", "nm/",
            ]
            let dry = try runClient(base + rules + ["-n"], in: work)
            #expect(dry.status == 0, "\(dry.stderr)")
            let deletions = dry.stdout.split(separator: "\n").filter { $0.hasPrefix("delete") }.map(String.init)
            #expect(deletions.count == 2, "\(dry.stdout)")
            #expect(deletions.contains { $0.hasSuffix(" b.txt") } && deletions.contains { $0.hasSuffix(" build") })

            let run = try runClient(base + rules + ["--json"], in: work)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try run.json()["deleted"] as? Int == 2, "\(run.stdout)")
            let kept = [
                "notes.log", "cache/x.bin", "sub/t.tmp", "sub/keep.txt", "a.txt", "sub/.filesyncignore", "proj/nm/m.js",
            ]
            for kept in kept {
                #expect(FileManager.default.fileExists(atPath: root + "/g/" + kept), "\(kept) was deleted")
            }
            #expect(!FileManager.default.fileExists(atPath: root + "/g/b.txt"))
            #expect(!FileManager.default.fileExists(atPath: root + "/g/build"))
        }

        @Test("--delete mirrors deletions but keeps excluded paths on the server (as rsync), unless --delete-excluded")
        func deleteProtectsExcluded() throws {
            let work = try TemporaryDirectory("exclude-delete")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try Self.write("a", to: source + "/a.txt")
            try Self.write("stays", to: source + "/stays.txt")
            try Self.write("more", to: source + "/more.txt")
            try Self.write("b", to: source + "/cache/b.dat")
            let server = try ServerProcess(root: root, in: work)
            let base = ["--source", source, "--id", "d"] + server.connect
            #expect(try runClient(base, in: work).status == 0)
            #expect(FileManager.default.fileExists(atPath: root + "/d/cache/b.dat"))

            try FileManager.default.removeItem(atPath: source + "/a.txt")
            // A dry run counts the deletion of a.txt, not the excluded cache.
            let dry = try runClient(base + ["--delete", "--exclude", "cache/", "-n", "--json"], in: work)
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(try dry.json()["delete"] as? Int == 1, "\(dry.stdout)")
            let guarded = try runClient(base + ["--delete", "--exclude", "cache/", "--json"], in: work)
            #expect(guarded.status == 0, "\(guarded.stderr)")
            #expect(!guarded.stderr.contains("nothing was deleted"), "\(guarded.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/d/cache/b.dat"))
            #expect(!FileManager.default.fileExists(atPath: root + "/d/a.txt"), "a file gone from the source stays")
            #expect(try guarded.json()["deleted"] as? Int == 1)
            #expect(try guarded.json()["deletionsSkipped"] == nil)

            // A quiet run that keeps what it excluded prints nothing (cron mails only failures).
            try FileManager.default.removeItem(atPath: source + "/stays.txt")
            let quiet = try runClient(base + ["--delete", "--exclude", "cache/", "-q"], in: work)
            #expect(quiet.status == 0 && quiet.stdout.isEmpty, "\(quiet.stdout)\(quiet.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/d/stays.txt"))
            #expect(FileManager.default.fileExists(atPath: root + "/d/cache/b.dat"))

            let mirrored = try runClient(base + ["--delete-excluded", "--exclude", "cache/", "--json"], in: work)
            #expect(mirrored.status == 0, "\(mirrored.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/d/cache"))
            #expect(!FileManager.default.fileExists(atPath: root + "/d/a.txt"))
        }
    }
}
