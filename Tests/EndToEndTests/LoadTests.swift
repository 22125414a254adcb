import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// `make faults`: many clients and many idle connections against one server with its default
    /// settings (off unless `FILESYNC_SOAK=1`: 500 client processes take gigabytes of memory).
    @Suite(
        "Load",
        .enabled(if: ProcessInfo.processInfo.environment["FILESYNC_SOAK"] == "1", "set FILESYNC_SOAK=1 (make faults)"))
    struct LoadTests {
        @Test("500 clients started at once, default settings and retries: all exit 0, the server stays under 200 MB")
        func fiveHundredClients() throws {
            let work = try TemporaryDirectory("load")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let count = 500
            var sources: [String] = []
            for index in 0..<count {
                let source = try work.subfolder("src-\(index)")
                for file in 0..<3 {
                    try SampleTree.write(Array("client \(index) file \(file)\n".utf8), to: source + "/f\(file).txt")
                }
                sources.append(source)
            }
            // Pin the server's fingerprint once, so that 500 first contacts do not race to write it.
            let first = try runClient(["--source", sources[0], "--id", "load-0"] + server.connect, in: work)
            #expect(first.status == 0, "\(first.stderr)")

            let clients = try (0..<count).map { index in
                try Command(
                    Harness.client, ["--source", sources[index], "--id", "load-\(index)"] + server.connect, in: work)
            }
            let results = clients.map { $0.wait(timeout: 600) }
            let failed = results.filter { $0.status != 0 }
            let failures = failed.count
            #expect(failures == 0, "\(failures) of \(count) failed; the first said: \(failed.first?.stderr ?? "")")
            for index in [1, count / 2, count - 1] {
                #expect(try TreeSnapshot(of: root + "/load-\(index)") == TreeSnapshot(of: sources[index]))
            }
            let peak = try #require(Self.peakResidentBytes(of: server.process.processIdentifier))
            print("500 clients at once: \(count - failures) exited 0; server peak RSS \(peak >> 20) MiB")
            #expect(peak < 200 << 20)
        }

        @Test(
            "5,000 idle and trickling connections: the server raised its open-file limit and said so; a client is still served within the handshake timeout"
        )
        func fiveThousandConnections() throws {
            let work = try TemporaryDirectory("idle")
            let root = try work.subfolder("root")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("hello\n".utf8), to: source + "/hello.txt")
            let server = try ServerProcess(root: root, in: work)
            #expect(server.log.contains(/open-file limit: [0-9]+ \(hard limit/), "\(server.log)")

            try Self.raiseOwnOpenFileLimit(to: 12_000)
            var sockets: [Int32] = []
            defer { for fd in sockets { close(fd) } }
            for _ in 0..<5_000 { sockets.append(try Self.connect(port: server.port)) }
            // The kernel's backlog completes connections for a server that does not accept them:
            // the server itself must hold them, one descriptor each, beyond the usual soft limit
            // of 1,024 (it drops each after the handshake timeout, so not all 5,000 at once).
            let pid = server.process.processIdentifier
            let deadline = Date().addingTimeInterval(30)
            var held = Self.openDescriptors(of: pid)
            while held <= 2_048 && Date() < deadline {
                usleep(50_000)
                held = max(held, Self.openDescriptors(of: pid))
            }
            print("5,000 connections: the server held \(held) descriptors at once")
            #expect(held > 2_048)
            // Half of them trickle: one byte a second, a frame that never completes.
            let trickling = Array(sockets.prefix(2_500))
            let stop = StopFlag()
            let stopped = DispatchSemaphore(value: 0)
            Thread {
                while !stop.value.load(ordering: .relaxed) {
                    for fd in trickling { _ = send(fd, [0], 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                    usleep(1_000_000)  // the pace of the trickle, not a wait for anything
                }
                stopped.signal()
            }.start()
            defer {
                stop.value.store(true, ordering: .relaxed)
                stopped.wait()
            }

            // The client gives up after the server's handshake timeout (10 s) without a complete
            // frame, and does not retry: served in that time, or failed.
            let result = try runClient(
                ["--source", source, "--id", "patient", "--timeout", "10s", "--retries", "0"] + server.connect,
                in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try TreeSnapshot(of: root + "/patient") == TreeSnapshot(of: source))
        }

        /// How many descriptors a running process holds.
        static func openDescriptors(of pid: Int32) -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        }

        /// Peak resident memory (`VmHWM`) of a running process.
        static func peakResidentBytes(of pid: Int32) -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
            else { return nil }
            return kilobytes * 1024
        }

        static func raiseOwnOpenFileLimit(to wanted: rlim_t) throws {
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_max >= wanted else {
                throw TestFailure("the open-file hard limit is below \(wanted)")
            }
            limit.rlim_cur = max(limit.rlim_cur, wanted)
            guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw TestFailure("setrlimit failed") }
        }

        static func connect(port: Int) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(fd)
                throw TestFailure("connect: errno \(errno)")
            }
            return fd
        }
    }
}

/// Tells the trickling thread to stop.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
