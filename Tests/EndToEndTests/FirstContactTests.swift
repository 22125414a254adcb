import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// What a new user meets first: the version, a server not running, a missing or exposed secret.
    @Suite("First contact") struct FirstContactTests {
        @Test("--version prints the version and the protocol version, without --source")
        func version() throws {
            let work = try TemporaryDirectory("version")
            let result = try runClient(["--version"], in: work, timeout: 30)
            #expect(result.status == 0, "\(result.stderr)")
            let line = /filesync-client [0-9]+\.[0-9]+\.[0-9]+ \(protocol ([0-9]+)\)\n/
            let match = try #require(result.stdout.wholeMatch(of: line), "\(result.stdout)")
            #expect(Int(match.1) == ProtocolLimits.version)
        }

        @Test("a refused connection says nothing is listening, without SwiftNIO's dump; the new key is not saved")
        func refusedConnection() throws {
            let work = try TemporaryDirectory("refused")
            let source = try work.subfolder("source")
            try KeyFile.create(work.path + "/secret")
            chmod(work.path + "/secret", 0o600)
            let port = try Self.closedPort()
            let keyFile = work.path + "/keys/new.key"
            let result = try runClient(
                [
                    "--source", source, "--id", "refused", "--server", "127.0.0.1:\(port)", "--retries", "1",
                    "--retry-wait", "10ms", "--secret-file", work.path + "/secret", "--key-file", keyFile,
                ], in: work, timeout: 60)
            #expect(result.status == 75, "\(result.stderr)")
            #expect(
                result.stderr.contains("nothing is listening on 127.0.0.1:\(port) (connection refused, 2 attempts)"),
                "\(result.stderr)")
            for dump in ["SingleConnectionFailure", "errno", "connection lost"] {
                #expect(!result.stderr.contains(dump), "\(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: keyFile), "a key file was created by a failed run")
        }

        @Test("a missing secret file is called the secret file, with the system's plain reason")
        func missingSecret() throws {
            let work = try TemporaryDirectory("no-secret")
            let source = try work.subfolder("source")
            let missing = work.path + "/no-such.secret"
            let result = try runClient(
                ["--source", source, "--id", "x", "--server", "127.0.0.1:9", "--secret-file", missing], in: work,
                timeout: 30)
            #expect(result.status == 64, "\(result.stderr)")
            #expect(
                result.stderr == "filesync-client: cannot read the secret file \(missing): No such file or directory\n",
                "\(result.stderr)")
        }

        @Test("a secret file readable by others is warned about, as ssh does; the key file appears once accepted")
        func exposedSecretAndKeyFile() throws {
            let work = try TemporaryDirectory("exposed")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            let server = try ServerProcess(root: root, in: work)
            let secret = work.path + "/config/filesync/server.secret"
            let keyFile = work.path + "/keys/exposed.key"
            let arguments =
                ["--source", source, "--id", "exposed", "--secret-file", secret, "--key-file", keyFile]
                + server.connect
            #expect(chmod(secret, 0o644) == 0)
            let warned = try runClient(arguments, in: work)
            #expect(warned.status == 0, "\(warned.stderr)")
            #expect(
                warned.stderr.contains(
                    "warning: the secret file \(secret) is accessible by group or others (permissions 0044"),
                "\(warned.stderr)")
            #expect(warned.stderr.contains("chmod 600 \(secret)"), "\(warned.stderr)")
            #expect(warned.stdout.contains("1 file scanned, 1 sent"), "\(warned.stdout)")
            #expect(FileManager.default.fileExists(atPath: keyFile))

            #expect(chmod(secret, 0o600) == 0)
            let quiet = try runClient(arguments, in: work)
            #expect(quiet.status == 0, "\(quiet.stderr)")
            #expect(!quiet.stderr.contains("warning"), "\(quiet.stderr)")
        }

        @Test("repeated skips are one line with a count; -v lists each")
        func skippedSummarised() throws {
            let work = try TemporaryDirectory("skips")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("ok".utf8), to: source + "/ok.txt")
            // Names that are not UTF-8 cannot be backed up: each is a skipped entry.
            for index in 0..<5 {
                let name: [UInt8] = Array((source + "/bad-\(index)-").utf8) + [0xFF, 0]
                let fd = name.withUnsafeBufferPointer {
                    $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
                }
                try #require(fd >= 0)
                close(fd)
            }
            let server = try ServerProcess(root: root, in: work)
            let arguments = ["--source", source, "--id", "skips"] + server.connect
            let plain = try runClient(arguments, in: work)
            #expect(plain.status == 0, "\(plain.stderr)")
            let lines = plain.stderr.split(separator: "\n").filter { $0.contains("skipped") }
            #expect(lines.count == 1, "\(plain.stderr)")
            #expect(lines.first?.contains("skipped 5 entries (-v lists them)") == true, "\(plain.stderr)")
            #expect(plain.stdout.contains("5 entries skipped"), "\(plain.stdout)")

            let verbose = try runClient(arguments + ["-v"], in: work)
            #expect(verbose.status == 0, "\(verbose.stderr)")
            let each = verbose.stderr.split(separator: "\n").filter { $0.contains("skipped") && $0.contains("bad-") }
            #expect(each.count == 5, "\(verbose.stderr)")
        }

        @Test("-q prints nothing on stdout when the run succeeds; without it the summary is printed")
        func quiet() throws {
            let work = try TemporaryDirectory("quiet")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            let server = try ServerProcess(root: root, in: work)
            let result = try runClient(["--source", source, "--id", "q", "-q"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.isEmpty, "\(result.stdout)")
            #expect(FileManager.default.fileExists(atPath: root + "/q/one.txt"))
            let loud = try runClient(["--source", source, "--id", "q"] + server.connect, in: work)
            #expect(loud.stdout.contains("1 file scanned, 0 sent, 1 unchanged"), "\(loud.stdout)")
        }

        /// A loopback port nothing listens on: bound, read and closed again.
        static func closedPort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard bound else { throw TestFailure("cannot bind a loopback port") }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }
}
