import FileSyncCore
import TestSupport
import Testing

@Suite("Discovery packets")
struct DiscoveryPacketTests {
    let offer = DiscoveryPacket.Offer(
        nonce: "00112233aabbccdd", serverId: "6f1c0c3e-1d2a-4c57-9d43-1a2b3c4d5e6f",
        name: String(repeating: "n", count: 64), port: 7733)

    @Test("DISCOVER is padded to the minimum size; replies stay within it (no amplification)")
    func sizes() throws {
        let discover = try DiscoveryPacket.discover(.init(nonce: "00112233aabbccdd")).encoded()
        #expect(discover.count == DiscoveryPacket.minimumDiscoverSize)
        #expect(Array(discover.prefix(6)) == Array("FSYN".utf8) + [1, 1])
        let reply = try DiscoveryPacket.offer(offer).encoded()
        #expect(reply.count <= discover.count)
    }

    @Test("every packet type round-trips")
    func roundTrip() throws {
        for packet in [DiscoveryPacket.discover(.init(nonce: "0123456789abcdef")), .offer(offer), .announce(offer)] {
            #expect(try DiscoveryPacket(bytes: packet.encoded()) == packet)
        }
    }

    @Test("a DISCOVER shorter than the minimum is ignored, so it cannot be used to amplify")
    func shortDiscover() throws {
        let full = try DiscoveryPacket.discover(.init(nonce: "0123456789abcdef")).encoded()
        #expect(throws: FileSyncError.self) { try DiscoveryPacket(bytes: full.prefix(100)) }
    }

    @Test(
        "foreign and malformed datagrams are rejected with an error, never a crash",
        arguments: [
            [], Array("FSYN".utf8), Array("XXXX".utf8) + [1, 1, 0, 0], Array("FSYN".utf8) + [2, 1, 0, 0],
            Array("FSYN".utf8) + [1, 9, 0, 0],
            Array("FSYN".utf8) + [1, 2, 0xff, 0xff] + [UInt8](repeating: 0, count: 20),
            Array("FSYN".utf8) + [1, 2, 0, 2] + Array("{}".utf8),
            Array("FSYN".utf8) + [1, 2, 0, 5] + Array("nope!".utf8),
            [UInt8](repeating: 0x41, count: 2000),
        ] as [[UInt8]])
    func garbage(bytes: [UInt8]) {
        #expect(throws: FileSyncError.self) { try DiscoveryPacket(bytes: bytes) }
    }

    @Test(
        "a DISCOVER whose nonce is not 16 lowercase hex digits is ignored (no larger OFFER, no rate-limit token)",
        arguments: [
            "", "ab", "0123456789ABCDEF", "0123456789abcdeg", String(repeating: "a", count: 17),
            String(repeating: "f", count: 400),
        ])
    func badNonce(nonce: String) throws {
        let bytes = try DiscoveryPacket.discover(.init(nonce: nonce)).encoded()
        #expect(throws: FileSyncError.self) { try DiscoveryPacket(bytes: bytes) }
    }

    @Test("an offer for an impossible port is rejected")
    func badPort() throws {
        var bad = offer
        bad.port = 70000
        let bytes = try DiscoveryPacket.offer(bad).encoded()
        #expect(throws: FileSyncError.self) { try DiscoveryPacket(bytes: bytes) }
    }

    @Test("random bytes after a valid header never crash the parser")
    func randomBodies() {
        var generator = SeededGenerator(seed: 42)
        var rejected = 0
        for _ in 0..<2000 {
            let length = Int.random(in: 0...600, using: &generator)
            let type = UInt8.random(in: 0...4, using: &generator)
            let body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let bytes = Array("FSYN".utf8) + [1, type, UInt8(length >> 8), UInt8(length & 0xff)] + body
            if (try? DiscoveryPacket(bytes: bytes)) == nil { rejected += 1 }
        }
        #expect(rejected == 2000)
    }
}
