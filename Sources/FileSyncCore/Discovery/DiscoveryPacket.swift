import Foundation
import NIOCore

/// A UDP discovery datagram: `DISCOVER` (client → group), `OFFER` (server → client, unicast) or
/// `ANNOUNCE` (server → group).
///
/// Layout: magic `FSYN` (4 bytes), version (1 byte), type (1 byte), body length (2 bytes, big
/// endian), a JSON body, then padding up to the datagram's end. A `DISCOVER` is padded to at least
/// ``minimumDiscoverSize`` bytes and every reply is at most that size, so a reply is never larger
/// than the request that caused it (no amplification). See Protocol.md, "Discovery".
public enum DiscoveryPacket: Sendable, Equatable {
    case discover(Discover)
    case offer(Offer)
    case announce(Offer)

    public static let magic: [UInt8] = Array("FSYN".utf8)
    public static let version: UInt8 = 1
    public static let headerSize = 8
    /// Minimum size of a `DISCOVER` datagram, and maximum size of an `OFFER` or `ANNOUNCE`.
    public static let minimumDiscoverSize = 512
    /// Largest datagram accepted at all.
    public static let maximumSize = 1200

    public enum PacketType: UInt8, Sendable {
        case discover = 1
        case offer = 2
        case announce = 3
    }

    public struct Discover: Codable, Sendable, Equatable {
        /// Random, echoed in the `OFFER` so the client can match replies to its own query: exactly
        /// ``nonceLength`` lowercase hex digits (64 bits); a DISCOVER with any other is ignored.
        public var nonce: String
        public init(nonce: String) { self.nonce = nonce }

        /// The nonce's length in hex digits.
        public static let nonceLength = 16

        /// Whether `nonce` is what the protocol allows.
        public static func isValid(nonce: String) -> Bool {
            nonce.isLowercaseHex(count: nonceLength)
        }
    }

    public struct Offer: Codable, Sendable, Equatable {
        /// The `DISCOVER` nonce this answers; absent in `ANNOUNCE`.
        public var nonce: String?
        public var serverId: String
        public var name: String
        /// The TCP port of the backup service.
        public var port: Int
        /// The highest protocol version the server speaks.
        public var version: Int
        /// SHA-256 of the server's TLS certificate (64 hex digits); absent when it does not use TLS.
        public var fingerprint: String?

        public init(
            nonce: String?, serverId: String, name: String, port: Int, version: Int = ProtocolLimits.version,
            fingerprint: String? = nil
        ) {
            self.nonce = nonce
            self.serverId = serverId
            self.name = name
            self.port = port
            self.version = version
            self.fingerprint = fingerprint
        }
    }

    // MARK: - Encoding

    /// The datagram bytes.
    public func encoded() throws -> [UInt8] {
        let type: PacketType
        let body: Data
        switch self {
        case .discover(let discover):
            type = .discover
            body = try JSONEncoder().encode(discover)
        case .offer(let offer):
            type = .offer
            body = try JSONEncoder().encode(offer)
        case .announce(let offer):
            type = .announce
            body = try JSONEncoder().encode(offer)
        }
        var bytes = Self.magic + [Self.version, type.rawValue]
        bytes += [UInt8(body.count >> 8), UInt8(body.count & 0xff)]
        bytes += body
        if type == .discover {
            bytes += [UInt8](repeating: 0, count: max(0, Self.minimumDiscoverSize - bytes.count))
        } else if bytes.count > Self.minimumDiscoverSize {
            throw FileSyncError(.limitExceeded, "discovery reply of \(bytes.count) bytes is too large")
        }
        return bytes
    }

    // MARK: - Decoding

    /// Parses a datagram, or throws `malformedMessage` saying why it is not one of ours.
    public init(bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes)
        guard bytes.count >= Self.headerSize, bytes.count <= Self.maximumSize else {
            throw FileSyncError(.malformedMessage, "datagram of \(bytes.count) bytes has the wrong size")
        }
        guard Array(bytes[0..<4]) == Self.magic else {
            throw FileSyncError(.malformedMessage, "datagram does not start with the filesync magic")
        }
        guard bytes[4] == Self.version else {
            throw FileSyncError(.unsupportedVersion, "discovery version \(bytes[4]) is not supported")
        }
        guard let type = PacketType(rawValue: bytes[5]) else {
            throw FileSyncError(.malformedMessage, "unknown discovery packet type \(bytes[5])")
        }
        let length = Int(bytes[6]) << 8 | Int(bytes[7])
        guard Self.headerSize + length <= bytes.count else {
            throw FileSyncError(.malformedMessage, "discovery body length \(length) overruns the datagram")
        }
        let body = Data(bytes[Self.headerSize..<(Self.headerSize + length)])
        do {
            switch type {
            case .discover:
                guard bytes.count >= Self.minimumDiscoverSize else {
                    throw FileSyncError(.malformedMessage, "DISCOVER shorter than \(Self.minimumDiscoverSize) bytes")
                }
                let discover = try JSONDecoder().decode(Discover.self, from: body)
                guard Discover.isValid(nonce: discover.nonce) else {
                    throw FileSyncError(.malformedMessage, "a DISCOVER nonce must be 16 lowercase hex digits")
                }
                self = .discover(discover)
            case .offer:
                self = .offer(try JSONDecoder().decode(Offer.self, from: body).validated())
            case .announce:
                self = .announce(try JSONDecoder().decode(Offer.self, from: body).validated())
            }
        } catch let error as DecodingError {
            throw FileSyncError(.malformedMessage, "discovery body: \(error.shortDescription)")
        }
    }
}

extension DiscoveryPacket.Offer {
    fileprivate func validated() throws -> Self {
        guard (1...65535).contains(port) else {
            throw FileSyncError(.malformedMessage, "offered port \(port) is out of range")
        }
        guard name.utf8.count <= 64, serverId.utf8.count <= 64, (nonce?.utf8.count ?? 0) <= 64,
            (fingerprint?.utf8.count ?? 64) == 64
        else {
            throw FileSyncError(.malformedMessage, "offer fields are too long")
        }
        return self
    }
}
