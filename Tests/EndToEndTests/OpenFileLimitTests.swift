import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Open-file limit") struct OpenFileLimitTests {
        /// The soft and hard "Max open files" of process `pid`, from `/proc/<pid>/limits`.
        static func openFileLimits(of pid: Int32) throws -> (soft: Int, hard: Int) {
            let text = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else {
                throw TestFailure("no open-file limit in /proc/\(pid)/limits")
            }
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            guard numbers.count == 2 else { throw TestFailure("cannot read \(line)") }
            return (numbers[0], numbers[1])
        }

        @Test("the server raises its soft open-file limit to the hard limit at start (not only to 65,536) and logs it")
        func raisedToTheHardLimit() throws {
            // Started with a soft limit of 1,024 under this process's hard limit (lowering is always
            // allowed). Where that hard limit is above 65,536, as on most systems, this also shows
            // the server goes past the 65,536 it used to stop at.
            var own = rlimit()
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"),
                getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &own) == 0,
                own.rlim_max != rlim_t.max, own.rlim_max > 1024
            else {
                print("skipped: needs /usr/bin/prlimit and a finite hard open-file limit above 1,024")
                return
            }
            let hard = Int(own.rlim_max)
            print("open-file limit test: hard limit \(hard)")
            let work = try TemporaryDirectory("nofile")
            let root = try work.subfolder("root")
            let server = try ServerProcess(
                root: root, in: work, launcher: ["/usr/bin/prlimit", "--nofile=1024:\(hard)", "--"])
            let limits = try Self.openFileLimits(of: server.process.processIdentifier)
            #expect(limits.hard == hard)
            #expect(limits.soft == hard, "soft limit \(limits.soft)")
            #expect(server.log.contains("open-file limit: \(hard) (hard limit \(hard); it was 1024)"), "\(server.log)")

            // And a client is served as before.
            let source = try work.subfolder("source")
            try SampleTree.write(Array("data".utf8), to: source + "/a.txt")
            #expect(try runClient(["--source", source, "--id", "n"] + server.connect, in: work).status == 0)
        }
    }
}
