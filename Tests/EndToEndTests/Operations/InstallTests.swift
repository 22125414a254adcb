import Foundation
import Testing

extension EndToEnd {
    @Suite("Install") struct InstallTests {
        static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        static let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }

        /// Installs into a temporary PREFIX (DESTDIR empty, so that the units name binaries that exist).
        static func install(in work: TemporaryDirectory) throws -> String {
            let prefix = work.path + "/usr"
            let result = try Command.run(
                "/usr/bin/env",
                [
                    "make", "-C", packageRoot, "install-files", "BIN_DIR=\(Harness.binDirectory.path)",
                    "PREFIX=\(prefix)", "DESTDIR=",
                ], in: work, timeout: 120)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            return prefix
        }

        @Test("make install puts the binaries, man pages from the parser, completions and units in PREFIX")
        func installsEverything() throws {
            let work = try TemporaryDirectory("install")
            let prefix = try Self.install(in: work)
            let expected = [
                "bin/filesync-server", "bin/filesync-client", "share/man/man1/filesync-server.1",
                "share/man/man1/filesync-server-status.1", "share/man/man1/filesync-client.1",
                "share/bash-completion/completions/filesync-server", "share/zsh/site-functions/_filesync-client",
                "share/fish/vendor_completions.d/filesync-server.fish", "lib/systemd/system/filesync-server.service",
                "lib/systemd/system/filesync-client@.service", "lib/systemd/system/filesync-client@.timer",
                "lib/sysusers.d/filesync.conf",
            ]
            for path in expected {
                #expect(FileManager.default.fileExists(atPath: prefix + "/" + path), "missing \(path)")
            }
            #expect(FileManager.default.isExecutableFile(atPath: prefix + "/bin/filesync-server"))
            let manual = try String(
                contentsOfFile: prefix + "/share/man/man1/filesync-server-status.1", encoding: .utf8)
            #expect(manual.hasPrefix(".TH \"FILESYNC-SERVER-STATUS\" \"1\""))
            #expect(manual.contains("\\-\\-stale"), "the page lists the flags from the parser: \(manual)")
            let completion = try String(
                contentsOfFile: prefix + "/share/bash-completion/completions/filesync-server", encoding: .utf8)
            #expect(completion.contains("status"))
            let unit = try String(
                contentsOfFile: prefix + "/lib/systemd/system/filesync-server.service", encoding: .utf8)
            #expect(unit.contains("ExecStart=\(prefix)/bin/filesync-server serve"))
            for line in [
                "ProtectSystem=strict", "ReadWritePaths=/srv/filesync", "NoNewPrivileges=yes", "User=filesync",
            ] {
                #expect(unit.contains(line + "\n"), "\(line)")
            }
        }

        @Test(
            "systemd-analyze verify accepts the installed units",
            .enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed (apt-get install systemd)"))
        func unitsVerify() throws {
            let work = try TemporaryDirectory("units")
            let units = try Self.install(in: work) + "/lib/systemd/system"
            // The templates are verified through an instance (systemd finds the template beside it).
            // The man pages are named as file: links, so verify's man(1) check (on by default) passes
            // for this PREFIX, which man does not search.
            let names = ["filesync-server.service", "filesync-client@laptop.service", "filesync-client@laptop.timer"]
            let result = try Command.run(
                try #require(Self.systemdAnalyze), ["verify"] + names.map { units + "/" + $0 }, in: work,
                timeout: 120)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(!result.stderr.contains("Unknown key") && !result.stderr.contains("Failed"), "\(result.stderr)")
        }
    }
}
