import FileSyncCore
import Logging

extension BackupSession {
    func expectHello(_ messages: inout Messages) async throws -> Hello {
        guard let frame = try await messages.next() else {
            throw FileSyncError(.connectionClosed, "connection closed before HELLO")
        }
        guard case .hello(let hello) = try Message(frame: frame) else {
            throw FileSyncError(.unexpectedMessage, "the first message must be HELLO")
        }
        return hello
    }

    /// The challenge-response (Protocol.md, "Authentication"): the server proves it knows the
    /// secret, the client proves it knows the secret and holds the key its id is bound to (binding
    /// the id on first use). Happens before the queue, so strangers cannot hold a place in line.
    /// A dry run (`binding` false) checks a first key's proof but binds nothing.
    func authenticate(
        _ hello: Hello, clientID: ClientID, binding: Bool = true, _ messages: inout Messages, context: SessionContext
    ) async throws {
        let authenticator = settings.authenticator
        guard let clientNonce = hello.clientNonce, clientNonce.isLowercaseHex(count: 64) else {
            throw FileSyncError(
                .authenticationFailed,
                "this server requires authentication: give the client a copy of the server's secret (--secret-file)")
        }
        let serverNonce = Authenticator.nonce()
        let id = clientID.string
        try await context.send(
            .challenge(
                Challenge(
                    serverNonce: serverNonce,
                    serverProof: authenticator.serverProof(
                        clientNonce: clientNonce, serverNonce: serverNonce, clientID: id))))
        let frame = try await answerToChallenge(&messages, context: context)
        guard case .auth(let auth) = try Message(frame: frame) else {
            throw FileSyncError(.unexpectedMessage, "expected AUTH after CHALLENGE")
        }
        let expected = authenticator.clientProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
        guard Authenticator.matches(auth.proof, expected) else {
            logAuthenticationFailure(context)
            throw FileSyncError(
                .authenticationFailed, "authentication failed: the client's secret does not match the server's")
        }
        let keys = ClientKeyStore(root: settings.root)
        func proves(_ key: [UInt8]) -> Bool {
            let keyProof = Authenticator.keyProof(
                clientKey: key, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
            return Authenticator.matches(auth.keyProof, keyProof)
        }
        var bound = try keys.key(for: clientID)
        if bound == nil {
            // First use of this id: bind it to the client's key, once the client proved it holds it.
            guard
                let offered = authenticator.openClientKey(
                    auth.sealedKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id),
                proves(offered)
            else { throw FileSyncError(.malformedMessage, "AUTH carries no valid sealed key") }
            guard binding else { return }
            bound = try keys.bind(clientID, to: offered)
            if bound == offered {
                context.logger.notice("client id now bound to this client's key", metadata: ["client": "\(id)"])
            }
        }
        guard let bound, proves(bound) else {
            context.logger.warning("client key mismatch", metadata: ["client": "\(id)"])
            throw FileSyncError(
                .clientKeyMismatch,
                "client id \"\(id)\" belongs to another client (its key differs); if this machine replaced it, "
                    + "remove \(keys.path(for: clientID)) on the server to bind the id anew")
        }
    }

    /// The frame that follows CHALLENGE. A client that finds the server's proof wrong (another
    /// secret) closes instead, which may arrive as a reset rather than an end of stream: logged,
    /// and refused.
    private func answerToChallenge(_ messages: inout Messages, context: SessionContext) async throws -> Frame {
        let answer: Frame?
        do {
            answer = try await messages.next()
        } catch let error as FileSyncError where error.code != .connectionClosed {
            throw error
        } catch {
            answer = nil
        }
        guard let answer else {
            logAuthenticationFailure(context)
            throw FileSyncError(
                .authenticationFailed, "the client closed the connection after CHALLENGE (wrong secret?)")
        }
        return answer
    }

    /// `client at ADDR failed authentication (wrong secret?)`, at most once a minute per address.
    func logAuthenticationFailure(_ context: SessionContext) {
        let address = context.peerAddress
        guard let held = operations.authFailures.allow(address) else { return }
        var metadata: Logger.Metadata = [:]
        if held > 0 { metadata["sinceLast"] = "\(held) more" }
        context.logger.warning("client at \(address) failed authentication (wrong secret?)", metadata: metadata)
    }
}
