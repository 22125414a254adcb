import Foundation
import Testing

extension EndToEnd {
    /// `--source` more than once: each folder under its own name below the client's folder.
    @Suite("Several sources") struct MultiSourceTests {
        @Test(
            "each source lands under its last path component, a restore can name one, a single source stays at the top level"
        )
        func twoSources() throws {
            let work = try TemporaryDirectory("sources")
            let photos = try work.subfolder("home/photos")
            let docs = try work.subfolder("srv/docs")
            try SampleTree.make(at: photos, folders: 2, subfolders: 2, filesPerFolder: 3, seed: 3)
            try SampleTree.write(Array("letter".utf8), to: docs + "/letter.txt")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            defer { server.stop() }

            // A dry run shows where each source would go, and stores nothing.
            let dry = try runClient(
                server.connect + ["--source", photos, "--source", docs, "--id", "laptop", "-n"], in: work)
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("new      docs\n") && dry.stdout.contains("new      docs/letter.txt\n"))
            #expect(dry.stdout.contains("new      photos\n"), "\(dry.stdout)")
            #expect(!FileManager.default.fileExists(atPath: root + "/laptop"))

            let result = try runClient(
                server.connect + ["--source", photos, "--source", docs, "--id", "laptop", "--json"], in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try TreeSnapshot(of: root + "/laptop/photos") == TreeSnapshot(of: photos))
            #expect(try TreeSnapshot(of: root + "/laptop/docs") == TreeSnapshot(of: docs))
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: root + "/laptop")) == ["photos", "docs"])

            // Unchanged: nothing sent again.
            let again = try runClient(
                server.connect + ["--source", docs, "--source", photos, "--id", "laptop", "--json"], in: work)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try again.json()["sent"] as? Int == 0, "\(again.stdout)")

            // --delete with an exclusion: the excluded path is kept under its source's folder, what
            // left a source is deleted.
            try SampleTree.write(Array("draft".utf8), to: docs + "/draft.txt")
            try SampleTree.write(Array("cached".utf8), to: docs + "/cache.tmp")
            #expect(
                try runClient(server.connect + ["--source", photos, "--source", docs, "--id", "laptop"], in: work)
                    .status == 0)
            try FileManager.default.removeItem(atPath: docs + "/draft.txt")
            let mirrored = try runClient(
                server.connect + [
                    "--source", photos, "--source", docs, "--id", "laptop", "--delete", "--exclude", "*.tmp", "--json",
                ], in: work)
            #expect(mirrored.status == 0, "\(mirrored.stderr)")
            #expect(try mirrored.json()["deleted"] as? Int == 1, "\(mirrored.stdout)")
            #expect(!FileManager.default.fileExists(atPath: root + "/laptop/docs/draft.txt"))
            #expect(FileManager.default.fileExists(atPath: root + "/laptop/docs/cache.tmp"))

            // A restore names a source by its folder.
            let target = work.path + "/restored"
            let restore = try runClient(
                ["restore"] + server.connect + ["--id", "laptop", "--to", target, "docs"], in: work)
            #expect(restore.status == 0, "\(restore.stderr)")
            #expect(try TreeSnapshot(of: target + "/docs") == TreeSnapshot(of: docs))
            #expect(!FileManager.default.fileExists(atPath: target + "/photos"))

            // One source: its files at the top level, as always.
            let single = try runClient(server.connect + ["--source", docs, "--id", "single"], in: work)
            #expect(single.status == 0, "\(single.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/single/letter.txt"))
        }

        @Test("two sources with the same last component are an error naming both (exit 64); nothing is sent")
        func clash() throws {
            let work = try TemporaryDirectory("sources-clash")
            let first = try work.subfolder("a/docs")
            let second = try work.subfolder("b/docs")
            let result = try runClient(
                ["--server", "127.0.0.1:9", "--source", first, "--source", second, "--id", "laptop"], in: work,
                timeout: 30)
            #expect(result.status == 64, "\(result.stderr)")
            #expect(result.stderr.contains(first) && result.stderr.contains(second), "\(result.stderr)")
            #expect(result.stderr.contains("\"docs\""), "\(result.stderr)")
        }

        @Test("a source inside another is an error naming both (exit 64): its files would be stored twice")
        func nested() throws {
            let work = try TemporaryDirectory("sources-nested")
            let outer = try work.subfolder("home")
            let inner = try work.subfolder("home/docs")
            let result = try runClient(
                ["--server", "127.0.0.1:9", "--source", inner, "--source", outer, "--id", "laptop"], in: work,
                timeout: 30)
            #expect(result.status == 64, "\(result.stderr)")
            #expect(result.stderr.contains("the source \(inner) lies inside the source \(outer)"), "\(result.stderr)")
        }

        @Test("a profile lists sources; --delete with one of them empty deletes nothing (exit 66)")
        func profileAndEmptySource() throws {
            let work = try TemporaryDirectory("sources-profile")
            let music = try work.subfolder("music")
            let books = try work.subfolder("books")
            try SampleTree.write(Array("song".utf8), to: music + "/song.ogg")
            try SampleTree.write(Array("book".utf8), to: books + "/book.epub")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            defer { server.stop() }
            try ProfileTests.writeConfig(
                """
                {"profiles": {"default": {"source": ["\(music)", "\(books)"], "id": "shelf",
                 "server": "\(server.endpoint)", "delete": true}}}
                """, in: work)
            let first = try runClient([], in: work)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/shelf/music/song.ogg"))
            #expect(FileManager.default.fileExists(atPath: root + "/shelf/books/book.epub"))

            // An unmounted disk looks like an empty folder: its stored copy must survive.
            try FileManager.default.removeItem(atPath: books + "/book.epub")
            let second = try runClient([], in: work)
            #expect(second.status == 66, "\(second.stderr)")
            #expect(second.stderr.contains(books), "\(second.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/shelf/books/book.epub"))
        }
    }
}
