import FileSyncCore
import FileSyncSystem
import Foundation
import Testing

extension EndToEnd {
    @Suite("Authentication") struct AuthenticationTests {
        struct Setup {
            let work: TemporaryDirectory
            let source: String
            let root: String
            let server: ServerProcess

            init(_ label: String) throws {
                work = try TemporaryDirectory(label)
                source = try work.subfolder("source")
                root = try work.subfolder("root")
                try SampleTree.write(Array("private data".utf8), to: source + "/notes.txt")
                server = try ServerProcess(root: root, in: work, tls: false)
            }

            func client(_ extra: [String], id: String = "laptop") throws -> CommandResult {
                try runClient(["--source", source, "--id", id] + server.connect + extra, in: work)
            }
        }

        @Test("a client with the wrong secret is refused with exit 77 and nothing is written")
        func wrongSecret() throws {
            let setup = try Setup("secret")
            try KeyFile.create(setup.work.path + "/wrong.secret")
            let result = try setup.client(["--secret-file", setup.work.path + "/wrong.secret"])
            #expect(result.status == 77, "\(result.stderr)")
            // The server's proof does not verify against the wrong secret, so the client stops first.
            #expect(result.stderr.contains("could not prove it knows the secret"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: setup.root + "/laptop"))
        }

        @Test("a client that skips authentication, or answers with a wrong proof, is refused by the server")
        func wrongProofRefusedByServer() throws {
            let setup = try Setup("proof")
            let bare = try RawConnection(port: setup.server.port)
            try bare.send(.hello(.init(clientId: "intruder", capabilities: [])))
            guard case .error(let missing)? = try bare.receive() else { throw TestFailure("no ERROR without a nonce") }
            #expect(missing.code == FileSyncError.Code.authenticationFailed.rawValue)

            let raw = try RawConnection(port: setup.server.port)
            try raw.send(.hello(.init(clientId: "intruder", capabilities: [], clientNonce: Authenticator.nonce())))
            guard case .challenge? = try raw.receive() else { throw TestFailure("no CHALLENGE") }
            let junk = String(repeating: "ab", count: 32)
            try raw.send(.auth(Auth(proof: junk, keyProof: junk, sealedKey: junk)))
            guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR for a wrong proof") }
            #expect(error.code == FileSyncError.Code.authenticationFailed.rawValue)
            #expect(!FileManager.default.fileExists(atPath: setup.root + "/intruder"))
            #expect(setup.server.log.contains("authentication failed"))
        }

        @Test("a new id is not bound when the key proof does not match the key sent with it")
        func bindingNeedsKeyProof() throws {
            let setup = try Setup("badbind")
            let raw = try RawConnection(port: setup.server.port)
            let clientNonce = Authenticator.nonce()
            try raw.send(.hello(.init(clientId: "fresh", capabilities: [], clientNonce: clientNonce)))
            guard case .challenge(let challenge)? = try raw.receive() else { throw TestFailure("no CHALLENGE") }
            let authenticator = Authenticator(secret: setup.server.secret)
            let sent = [UInt8](repeating: 1, count: 32)
            let other = [UInt8](repeating: 2, count: 32)
            let nonces = (clientNonce, challenge.serverNonce)
            try raw.send(
                .auth(
                    Auth(
                        proof: authenticator.clientProof(
                            clientNonce: nonces.0, serverNonce: nonces.1, clientID: "fresh"),
                        keyProof: Authenticator.keyProof(
                            clientKey: other, clientNonce: nonces.0, serverNonce: nonces.1, clientID: "fresh"),
                        sealedKey: authenticator.sealedClientKey(
                            sent, clientNonce: nonces.0, serverNonce: nonces.1, clientID: "fresh"))))
            guard case .error? = try raw.receive() else { throw TestFailure("an inconsistent AUTH was accepted") }
            #expect(!FileManager.default.fileExists(atPath: setup.root + "/.filesync/fresh/client.key"))
        }

        @Test("a recorded AUTH cannot be replayed: the server's nonce is fresh in every session")
        func replayRefused() throws {
            let setup = try Setup("replay")
            #expect(try setup.client([]).status == 0)
            // Record a genuine exchange...
            let first = try RawConnection(port: setup.server.port)
            let clientNonce = Authenticator.nonce()
            try first.send(.hello(.init(clientId: "laptop", capabilities: [], clientNonce: clientNonce)))
            guard case .challenge(let challenge)? = try first.receive() else { throw TestFailure("no CHALLENGE") }
            let authenticator = Authenticator(secret: setup.server.secret)
            let key = try KeyFile.load(setup.work.path + "/config/filesync/keys/laptop.key")
            let recorded = Auth(
                proof: authenticator.clientProof(
                    clientNonce: clientNonce, serverNonce: challenge.serverNonce, clientID: "laptop"),
                keyProof: Authenticator.keyProof(
                    clientKey: key, clientNonce: clientNonce, serverNonce: challenge.serverNonce, clientID: "laptop"),
                sealedKey: authenticator.sealedClientKey(
                    key, clientNonce: clientNonce, serverNonce: challenge.serverNonce, clientID: "laptop"))
            try first.send(.auth(recorded))
            guard case .ready? = try first.receiveSkippingQueue() else { throw TestFailure("genuine AUTH refused") }
            _ = consume first
            // ...and replay it word for word: the new CHALLENGE has another nonce.
            let replay = try RawConnection(port: setup.server.port)
            try replay.send(.hello(.init(clientId: "laptop", capabilities: [], clientNonce: clientNonce)))
            guard case .challenge(let second)? = try replay.receiveSkippingQueue() else {
                throw TestFailure("no CHALLENGE")
            }
            #expect(second.serverNonce != challenge.serverNonce)
            try replay.send(.auth(recorded))
            guard case .error(let error)? = try replay.receiveSkippingQueue() else {
                throw TestFailure("the replay was accepted")
            }
            #expect(error.code == FileSyncError.Code.authenticationFailed.rawValue)
        }

        @Test("an id is bound to the first client's key; another client using it is refused with exit 78")
        func clientKeyBinding() throws {
            let setup = try Setup("binding")
            let first = try setup.client(["--json"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(FileManager.default.fileExists(atPath: setup.root + "/.filesync/laptop/client.key"))
            let before = try TreeSnapshot(of: setup.root + "/laptop")

            // Another machine (another key) with the right secret claims the same id.
            let other = try setup.work.subfolder("other-source")
            try SampleTree.write(Array("overwrite attempt".utf8), to: other + "/notes.txt")
            let impostor = try runClient(
                [
                    "--source", other, "--id", "laptop",
                ] + setup.server.connect + [
                    "--key-file",
                    setup.work.path + "/other.key",
                ],
                in: setup.work)
            #expect(impostor.status == 78, "\(impostor.stderr)")
            #expect(impostor.stderr.contains("belongs to another client"), "\(impostor.stderr)")
            #expect(try TreeSnapshot(of: setup.root + "/laptop") == before)

            // The rightful client still backs up, and a new id binds the other key.
            #expect(try setup.client([]).status == 0)
            #expect(
                try runClient(
                    [
                        "--source", other, "--id", "desktop",
                    ] + setup.server.connect + [
                        "--key-file",
                        setup.work.path + "/other.key",
                    ],
                    in: setup.work
                ).status == 0)
        }
    }
}
