import FileSyncCore
import Testing

/// The worked example of Protocol.md §4.1: an implementer checks their code against it, and these
/// tests check that it is exactly what this code produces.
@Suite("Authentication test vector (Protocol.md §4.1)")
struct AuthenticatorVectorTests {
    let authenticator = Authenticator(secret: Array(0...31))
    let clientKey: [UInt8] = Array(32...63)
    let clientNonce = String(repeating: "0123456789abcdef", count: 4)
    let serverNonce = String(repeating: "fedcba9876543210", count: 4)
    let id = "laptop"

    @Test("the server proof, the client proof and the key proof are the documented ones")
    func proofs() {
        #expect(
            authenticator.serverProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
                == "546106f08cc62c4f02d397c694682845b328bb40252644e959f23b2c8ac5e797")
        #expect(
            authenticator.clientProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
                == "d599fd5ad8e23fdbec1be2f83f67f814c66afeed33b680dc220cf4c1ff0c1c07")
        #expect(
            Authenticator.keyProof(
                clientKey: clientKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
                == "eec060d190f7e3ab2cbf2468fa0c2dcc50dcf61cf2118625bdfdc5bfcf8488ae")
    }

    @Test("the sealed key is the documented one, and opens back to the client key")
    func sealedKey() {
        let sealed = authenticator.sealedClientKey(
            clientKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
        #expect(sealed == "a32702f35cf9c52924961eceefec3cccce2e49ad2af47404b4371d892784ffa0")
        #expect(
            authenticator.openClientKey(sealed, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
                == clientKey)
    }
}
