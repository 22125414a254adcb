import Foundation
import Testing

extension EndToEnd {
    @Suite("Status page and metrics") struct StatusPageTests {
        static let hasPrometheusParser = succeeds("/usr/bin/env", ["python3", "-c", "import prometheus_client.parser"])
        static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }

        static func succeeds(_ executable: String, _ arguments: [String]) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }

        /// A server with `--http` on a free loopback port, `alpha` backed up twice (the second
        /// time one file changed), `bravo` once and aged 3 days (test-only, in its history), and
        /// `gamma` expected but never seen.
        struct Scene {
            let work: TemporaryDirectory
            let server: ServerProcess
            let base: String
        }

        static func scene() throws -> Scene {
            let work = try TemporaryDirectory("statuspage")
            let root = try work.subfolder("root")
            let server = try ServerProcess(
                root: root, in: work, extra: ["--http", "127.0.0.1:0", "--expect", "gamma"])
            let line = try server.nextOutputLine(containing: "status page")
            let match = try #require(line.firstMatch(of: /http:\/\/127\.0\.0\.1:([0-9]+)\//))
            let source = try work.subfolder("src-alpha")
            try Data(repeating: 1, count: 4000).write(to: URL(fileURLWithPath: source + "/one.bin"))
            try Data(repeating: 2, count: 1000).write(to: URL(fileURLWithPath: source + "/two.bin"))
            #expect(try runClient(["--source", source, "--id", "alpha"] + server.connect, in: work).status == 0)
            try Data(repeating: 3, count: 1500).write(to: URL(fileURLWithPath: source + "/two.bin"))
            #expect(try runClient(["--source", source, "--id", "alpha"] + server.connect, in: work).status == 0)
            let other = try work.subfolder("src-bravo")
            try Data(repeating: 4, count: 700).write(to: URL(fileURLWithPath: other + "/three.bin"))
            #expect(try runClient(["--source", other, "--id", "bravo"] + server.connect, in: work).status == 0)
            try StatusTests.age("bravo", by: 3 * 86_400, root: root)
            return Scene(work: work, server: server, base: "http://127.0.0.1:\(match.1)")
        }

        static let parser = """
            import json, sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    print(json.dumps([sample.name, sample.labels, sample.value]))
            """

        @Test(
            "/metrics parses as Prometheus text and carries the values of the sessions run",
            .enabled(
                if: hasPrometheusParser, "python3's prometheus_client is not installed (pip install prometheus_client)")
        )
        func metrics() throws {
            let scene = try Self.scene()
            let result = try Command.run(
                "/usr/bin/env", ["python3", "-c", Self.parser, scene.base + "/metrics"], in: scene.work, timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            var samples: [String: Double] = [:]
            for line in result.stdout.split(separator: "\n") {
                let item = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
                let name = try #require(item[0] as? String)
                let labels = try #require(item[1] as? [String: String])
                let key = name + labels.sorted { $0.key < $1.key }.map { "|\($0.key)=\($0.value)" }.joined()
                samples[key] = try #require(item[2] as? Double)
            }
            print(samples.keys.sorted().joined(separator: "\n"))
            #expect(samples["filesync_sessions_total|client=alpha|result=ok"] == 2)
            #expect(samples["filesync_sessions_total|client=bravo|result=ok"] == 1)
            // First run: both files (5000 bytes); second: the changed one (1500 bytes).
            #expect(samples["filesync_backup_bytes_stored_total|client=alpha"] == 6500)
            #expect(samples["filesync_storage_bytes|client=alpha"] == 5500)
            #expect(samples["filesync_storage_bytes|client=bravo"] == 700)
            #expect(samples["filesync_backup_files_failed|client=alpha"] == 0)
            let now = Date().timeIntervalSince1970
            let alphaSuccess = try #require(samples["filesync_last_success_timestamp_seconds|client=alpha"])
            #expect(abs(alphaSuccess - now) < 600)
            let bravoSuccess = try #require(samples["filesync_last_success_timestamp_seconds|client=bravo"])
            #expect(abs(now - bravoSuccess - 3 * 86_400) < 600)
            #expect(samples["filesync_last_attempt_timestamp_seconds|client=alpha"] == alphaSuccess)
            #expect((samples["filesync_backup_duration_seconds|client=alpha"] ?? -1) >= 0)
            #expect(samples["filesync_queue_length"] == 0)
            #expect(samples["filesync_active_sessions"] == 0)
            #expect((samples["filesync_storage_free_bytes"] ?? 0) > 0)
            // gamma never backed up: it has no success time.
            #expect(samples["filesync_last_success_timestamp_seconds|client=gamma"] == nil)
        }

        @Test(
            "the status page in headless Chromium: one coloured row per client, charts, no console errors",
            .enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium)"))
        func page() throws {
            let scene = try Self.scene()
            let chromium = try #require(Self.chromium)
            // A browser talks to the world on its own (updates, safe browsing, DNS): it runs in a
            // network namespace of its own, with no interface up, on the page as served. The page
            // loads nothing else (no scripts, styles and charts inline), so this renders it whole.
            let browser = [
                "-n", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
            ]
            // The console capture is first shown to work: a page that logs an error is caught.
            let probe = scene.work.path + "/probe.html"
            try Data("<p>x</p><script>console.error('probe-error')</script>".utf8).write(
                to: URL(fileURLWithPath: probe))
            let control = try Command.run(
                "/usr/bin/unshare", browser + ["--dump-dom", "file://" + probe], in: scene.work, timeout: 120)
            #expect(control.stderr.contains(":CONSOLE") && control.stderr.contains("probe-error"))

            let served = try Command.run(
                "/usr/bin/env",
                [
                    "python3", "-c",
                    "import urllib.request,sys;sys.stdout.write(urllib.request.urlopen(sys.argv[1],timeout=10).read().decode())",
                    scene.base + "/",
                ], in: scene.work, timeout: 60)
            #expect(served.status == 0, "\(served.stderr)")
            #expect(served.stdout.range(of: #"(src|href)=\"(https?:)?//"#, options: .regularExpression) == nil)
            let page = scene.work.path + "/status.html"
            try Data(served.stdout.utf8).write(to: URL(fileURLWithPath: page))
            let result = try Command.run(
                "/usr/bin/unshare", browser + ["--dump-dom", "file://" + page], in: scene.work, timeout: 120)
            #expect(result.status == 0)
            let consoleLines = result.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
            #expect(consoleLines.isEmpty, "console output: \(consoleLines)")
            let dom = result.stdout
            for (id, state) in [("alpha", "fresh"), ("bravo", "stale"), ("gamma", "never")] {
                #expect(dom.contains("<tr class=\"\(state)\" data-client=\"\(id)\">"), "\(id) row: \(dom)")
            }
            // A chart for each client that backed up; gamma has none.
            #expect(dom.components(separatedBy: "<svg class=\"chart\"").count == 3)
            #expect(dom.contains("no backup in the last 30 days"))
            #expect(dom.contains("2 backups in 30 days"))
            #expect(!dom.contains("<script"))
            // Never a file name on the page.
            #expect(!dom.contains("one.bin") && !dom.contains("three.bin"))

            let api = try Command.run(
                "/usr/bin/env",
                [
                    "python3", "-c",
                    "import urllib.request,sys;print(urllib.request.urlopen(sys.argv[1],timeout=10).read().decode())",
                    scene.base + "/api/status",
                ], in: scene.work, timeout: 60)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(api.stdout.utf8)) as? [String: Any])
            let clients = try #require(document["clients"] as? [[String: Any]])
            #expect(clients.map { $0["id"] as? String } == ["alpha", "bravo", "gamma"])
            #expect(clients.map { $0["freshness"] as? String } == ["fresh", "stale", "never"])
        }
    }
}
