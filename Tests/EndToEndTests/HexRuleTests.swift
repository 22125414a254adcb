import FileSyncCore
import Foundation
import Testing

extension EndToEnd {
    @Suite("Lowercase hex") struct HexRuleTests {
        @Test("an uppercase clientNonce is refused; an uppercase FILE_END.sha256 fails that file only")
        func uppercaseHexIsRefused() throws {
            let work = try TemporaryDirectory("hex")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, tls: false)
            defer { server.stop() }
            do {
                let raw = try RawConnection(port: server.port)
                let nonce = Authenticator.nonce().uppercased()
                try raw.send(.hello(.init(clientId: "upper", capabilities: [], clientNonce: nonce, session: nil)))
                guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR") }
                #expect(error.code == FileSyncError.Code.authenticationFailed.rawValue)
            }
            let raw = try RawConnection(port: server.port)
            try HostileCorpusTests.start(raw, server, work, [HostileCorpusTests.entry("f")], id: "upper")
            let content = Array("data".utf8)
            let sha256 = content.withUnsafeBytes { ChunkHash(of: $0) }.description
            try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
            try raw.sendData(content)
            try raw.send(.fileEnd(FileEnd(sha256: sha256.uppercased())))
            guard case .fileAck(let ack)? = try raw.receive() else { throw TestFailure("no FILE_ACK") }
            #expect(ack.files.first?.error?.code == FileSyncError.Code.checksumMismatch.rawValue)
            try raw.send(.done(Done()))
            guard case .nextSync(let next)? = try raw.receive() else { throw TestFailure("no NEXT_SYNC") }
            #expect(next.failed == 1 && next.stored == 0)
            #expect(!FileManager.default.fileExists(atPath: root + "/upper/f"))
        }
    }
}
