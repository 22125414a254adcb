import Crypto
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

    /// A MAC's input as §4.1 lays it out: the label and the three strings, each after its length.
    func macInput(_ label: String) -> [UInt8] {
        [label, clientNonce, serverNonce, id].flatMap { part -> [UInt8] in
            let bytes = Array(part.utf8)
            return [
                UInt8(bytes.count >> 24), UInt8(bytes.count >> 16 & 0xFF), UInt8(bytes.count >> 8 & 0xFF),
                UInt8(bytes.count & 0xFF),
            ] + bytes
        }
    }

    func hmac(_ key: [UInt8], _ input: [UInt8]) -> String {
        Array(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key))).hexString
    }

    @Test("each MAC is over the bytes §4.1 shows: 168 with the 18-byte labels, 165 with filesync-key-v1")
    func macInputs() {
        let server = macInput("filesync-server-v1")
        #expect(server.count == 168)
        #expect(Array(server.prefix(8)) == [0x00, 0x00, 0x00, 0x12, 0x66, 0x69, 0x6c, 0x65])
        #expect(Array(server[22..<30]) == [0x00, 0x00, 0x00, 0x40, 0x30, 0x31, 0x32, 0x33])
        #expect(
            hmac(Array(0...31), server)
                == authenticator.serverProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id))
        #expect(
            hmac(Array(0...31), macInput("filesync-client-v1"))
                == authenticator.clientProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id))
        let key = macInput("filesync-key-v1")
        #expect(key.count == 165)
        #expect(Array(key.prefix(4)) == [0x00, 0x00, 0x00, 0x0f])
        #expect(
            hmac(clientKey, key)
                == Authenticator.keyProof(
                    clientKey: clientKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id))
        #expect(macInput("filesync-enroll-v1").count == 168)
        #expect(
            hmac(Array(0...31), macInput("filesync-enroll-v1"))
                == "830620d078dce30e0cbf34e5c3c112e3fe1f7b9e1ec142338c0e27b21bb9c19f")
    }
}
