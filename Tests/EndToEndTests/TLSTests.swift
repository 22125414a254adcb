import FileSyncCore
import Foundation
import TestSupport
import Testing

extension EndToEnd {
    @Suite("TLS") struct TLSTests {
        @Test(
            "the server's fingerprint is pinned on first use; a changed one is refused (76) until accepted on purpose")
        func pinningAndChangedFingerprint() throws {
            let work = try TemporaryDirectory("pin")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.write(Array("data".utf8), to: source + "/a.txt")
            var server = try ServerProcess(root: root, in: work)
            let first = try runClient(["--source", source, "--id", "p"] + server.connect, in: work)
            #expect(first.status == 0, "\(first.stderr)")
            let known = try String(contentsOfFile: work.path + "/config/filesync/known_servers", encoding: .utf8)
            #expect(known == "\(server.endpoint) \(server.fingerprint!)\n")

            // The same address now presents another certificate.
            let port = server.port
            let oldFingerprint = server.fingerprint!
            server.stop()
            for name in ["server-tls.crt", "server-tls.key"] {
                try FileManager.default.removeItem(atPath: work.path + "/config/filesync/" + name)
            }
            server = try ServerProcess(root: root, in: work, port: port)
            #expect(server.fingerprint != oldFingerprint)
            try SampleTree.write(Array("changed".utf8), to: source + "/a.txt")
            let refused = try runClient(["--source", source, "--id", "p"] + server.connect, in: work)
            #expect(refused.status == 76, "\(refused.stderr)")
            #expect(
                refused.stderr.contains("fingerprint") && refused.stderr.contains("--accept-new-fingerprint"),
                "\(refused.stderr)")
            #expect(
                try String(contentsOfFile: root + "/p/a.txt", encoding: .utf8) == "data",
                "data went to the changed server")

            let accepted = try runClient(
                ["--source", source, "--id", "p", "--accept-new-fingerprint"] + server.connect, in: work)
            #expect(accepted.status == 0, "\(accepted.stderr)")
            #expect(
                try String(contentsOfFile: work.path + "/config/filesync/known_servers", encoding: .utf8).contains(
                    server.fingerprint!))
        }

        @Test("bytes on the wire are what the network carried: with TLS, its handshake and records count too")
        func wireBytesBelowTLS() throws {
            let work = try TemporaryDirectory("wire")
            let source = try work.subfolder("source")
            try SampleTree.write(TestData.random(1 << 20, seed: 7), to: source + "/random.bin")
            var onWire: [Bool: Int] = [:]
            for tls in [false, true] {
                let server = try ServerProcess(root: try work.subfolder("root-\(tls)"), in: work, tls: tls)
                let result = try runClient(["--source", source, "--id", "w", "--json"] + server.connect, in: work)
                #expect(result.status == 0, "\(result.stderr)")
                onWire[tls] = try result.json()["bytesOnWire"] as? Int ?? 0
            }
            let (plain, encrypted) = (onWire[false] ?? 0, onWire[true] ?? 0)
            #expect(plain > 1 << 20, "the content travels: \(plain) bytes")
            // A handshake with the server's certificate, and on each record of at most 16 KiB 5 bytes
            // of header, 1 of content type and 16 of tag: more than 1,500 bytes for 1 MiB, far less
            // than the content.
            #expect(encrypted > plain + 1_500 && encrypted < plain + 64 << 10, "TLS \(encrypted), plain \(plain)")
        }

        @Test("a plaintext client against a TLS server, and a TLS client against a plaintext server, are refused (76)")
        func plaintextMismatch() throws {
            let work = try TemporaryDirectory("plain")
            let source = try work.subfolder("source")
            try SampleTree.write(Array("data".utf8), to: source + "/a.txt")
            let tlsServer = try ServerProcess(root: try work.subfolder("tls-root"), in: work)
            let plainClient = try runClient(
                ["--source", source, "--id", "c", "--server", tlsServer.endpoint, "--no-tls"], in: work)
            #expect(plainClient.status == 76, "\(plainClient.stderr)")
            #expect(plainClient.stderr.contains("requires TLS"), "\(plainClient.stderr)")
            tlsServer.stop()

            let plainServer = try ServerProcess(root: try work.subfolder("plain-root"), in: work, tls: false)
            let tlsClient = try runClient(
                ["--source", source, "--id", "c", "--server", plainServer.endpoint], in: work)
            #expect(tlsClient.status == 76, "\(tlsClient.stderr)")
            #expect(tlsClient.stderr.contains("TLS"), "\(tlsClient.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.path + "/plain-root/c/a.txt"))
        }

        @Test("raw bytes and plaintext frames against a TLS server end that connection only")
        func garbageAgainstTLS() throws {
            let work = try TemporaryDirectory("tlsgarbage")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            var generator = SeededGenerator(seed: 7)
            for payload in [
                TestData.bytes(4096, from: &generator), Array("GET / HTTP/1.1\r\n\r\n".utf8),
                [0x16, 0x03, 0x01, 0xff, 0xff],
            ] {
                let raw = try RawConnection(port: server.port)
                try? raw.sendRaw(payload)
                while (try? raw.receive()) != nil {}
            }
            let source = try work.subfolder("source")
            try SampleTree.write(Array("ok".utf8), to: source + "/ok.txt")
            #expect(try runClient(["--source", source, "--id", "after"] + server.connect, in: work).status == 0)
        }
    }
}
