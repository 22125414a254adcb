import FileSyncCore
import NIOCore
import NIOEmbedded

/// The inputs the fuzzer drives: everything that parses bytes from the network. The first byte
/// picks the target; the rest is its input. A crash, a trap or a failed invariant is a bug.
enum FuzzTargets {
    static let names = [
        "frames", "message", "path", "client-id", "discovery", "inflate", "zstd", "chunks", "manifest", "file",
    ]

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let selector = input.first else { return }
        let body = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        switch Int(selector) % names.count {
        case 0: frames(body)
        case 1: message(body)
        case 2: path(body)
        case 3: clientID(body)
        case 4: discovery(body)
        case 5: inflate(body)
        case 6: zstd(body)
        case 7: chunks(body)
        case 8: manifest(body)
        default: wholeFile(body)
        }
    }

    /// The frame decoder over a stream cut into pieces at arbitrary points, with small limits; the
    /// connection's ``FrameAssembler`` over the same pieces must give the same frames and fail alike.
    static func frames(_ bytes: UnsafeRawBufferPointer) {
        var decoder = FrameDecoder(maxControlPayload: 4096, maxDataPayload: 4096)
        // A small first buffer, so that frames arriving in pieces grow theirs.
        let assembler = EmbeddedChannel(handler: FrameAssembler(decoder: decoder, minimumCapacity: 16))
        var buffer = ByteBuffer()
        var (decoded, assembled): ([Frame], [Frame]) = ([], [])
        var (decoderFailed, assemblerFailed) = (false, false)
        for piece in pieces(of: bytes) {
            buffer.writeBytes(piece)
            // Frames cut before an error in the same read still come out.
            do { try assembler.writeInbound(ByteBuffer(bytes: piece)) } catch { assemblerFailed = true }
            while let frame = try? assembler.readInbound(as: Frame.self) { assembled.append(frame) }
            do {
                while let frame = try decoder.decode(buffer: &buffer) {
                    precondition(frame.payload.readableBytes <= 4096, "frame over the limit was accepted")
                    if frame.kind == .control { _ = try? Message(frame: frame) }
                    decoded.append(frame)
                }
            } catch {
                decoderFailed = true
                break
            }
        }
        // The end of the stream: a frame cut short is an error for both.
        if !decoderFailed {
            do { _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true) } catch { decoderFailed = true }
        }
        do { _ = try assembler.finish() } catch { assemblerFailed = true }
        precondition(decoderFailed == assemblerFailed, "the assembler and the decoder disagree on an error")
        precondition(decoded == assembled, "the assembler and the decoder cut different frames")
    }

    /// `bytes` cut into pieces of 1 to 7, then 64 and 300 bytes in turn, as reads might cut a
    /// stream: small ones split headers, large ones hold whole frames.
    private static func pieces(of bytes: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
        let sizes = [1, 2, 3, 4, 5, 6, 7, 64, 300]
        var pieces: [UnsafeRawBufferPointer] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + sizes[pieces.count % sizes.count])
            pieces.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            offset = end
        }
        return pieces
    }

    /// Message decoding; whatever decodes must survive a round trip unchanged.
    static func message(_ bytes: UnsafeRawBufferPointer) {
        let frame = Frame(kind: .control, payload: ByteBuffer(bytes: bytes))
        guard let message = try? Message(frame: frame) else { return }
        guard let again = try? Message(frame: message.frame()) else {
            preconditionFailure("a decoded message does not encode and decode again")
        }
        precondition(again == message, "message round trip changed it")
        if case .filesInfo(let info) = message {
            for entry in info.entries { _ = try? entry.validated() }
        }
        if case .plan(let plan) = message, let valid = try? plan.validated() {
            for entry in valid.entries { precondition((try? RelativePath(validating: entry.path)) != nil) }
        }
    }

    /// Path validation: whatever is accepted must be safe to join under a folder.
    static func path(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let path = try? RelativePath(validating: text) else { return }
        precondition(!path.string.hasPrefix("/"), "absolute path accepted")
        precondition(!path.string.utf8.contains(0), "NUL accepted")
        precondition(path.string.utf8.count <= ProtocolLimits.maxPathBytes, "overlong path accepted")
        for component in path.components {
            precondition(component != "." && component != ".." && !component.isEmpty, "traversal accepted")
        }
    }

    static func clientID(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let id = try? ClientID(validating: text) else { return }
        precondition(!id.string.contains("/") && id.string != ".." && id.string != ".", "unsafe id accepted")
    }

    static func discovery(_ bytes: UnsafeRawBufferPointer) {
        guard let packet = try? DiscoveryPacket(bytes: bytes) else { return }
        if case .discover = packet { return }
        guard let encoded = try? packet.encoded() else { preconditionFailure("a parsed reply does not encode") }
        precondition(encoded.count <= DiscoveryPacket.minimumDiscoverSize, "reply larger than a DISCOVER")
    }

    /// Decompression with a small output bound: never more than the bound comes out.
    static func inflate(_ bytes: UnsafeRawBufferPointer) {
        guard let inflater = try? Inflater() else { return }
        var output = ByteBuffer()
        if (try? inflater.decompress(ByteBuffer(bytes: bytes), into: &output, maxOutput: 65536)) != nil {
            precondition(output.readableBytes <= 65536, "inflated past the bound")
        }
    }

    /// zstd decompression with a small output bound: never more than the bound comes out.
    static func zstd(_ bytes: UnsafeRawBufferPointer) {
        guard let decompressor = try? ZstdDecompressor() else { return }
        var output = ByteBuffer()
        if (try? decompressor.decompress(ByteBuffer(bytes: bytes), into: &output, maxOutput: 65536)) != nil {
            precondition(output.readableBytes <= 65536, "zstd decompressed past the bound")
        }
    }

    /// A binary manifest part: what decodes re-encodes and decodes to the same entries, with paths
    /// within the limit.
    static func manifest(_ bytes: UnsafeRawBufferPointer) {
        guard let (entries, final) = try? BinaryManifest.decode(ByteBuffer(bytes: bytes)) else { return }
        precondition(entries.allSatisfy { $0.path.utf8.count <= ProtocolLimits.maxPathBytes }, "path too long")
        let again = try? BinaryManifest.decode(BinaryManifest.encode(entries, final: final))
        precondition(again?.entries == entries && again?.final == final, "manifest does not round-trip")
    }

    /// A file frame's payload: what decodes has its fields in bounds and re-encodes to the same bytes.
    static func wholeFile(_ bytes: UnsafeRawBufferPointer) {
        guard let file = try? WholeFile(decoding: ByteBuffer(bytes: bytes)) else { return }
        let header = file.header
        precondition(header.path.utf8.count <= ProtocolLimits.maxPathBytes, "path too long")
        precondition(header.size >= 0 && header.size <= Int64(WholeFile.maxSize) && header.mode <= 0o7777, "bad field")
        let again = file.content.withUnsafeReadableBytes {
            WholeFile.payload(
                path: header.path, size: header.size, mtimeNs: header.mtimeNs, mode: header.mode, sha256: file.sha256,
                content: $0)
        }
        precondition(again == ByteBuffer(bytes: bytes), "a file frame does not re-encode to its bytes")
    }

    /// A chunk-list payload and CHUNK_NEED ranges: accepted lists hold valid entries that
    /// re-encode to the same bytes; accepted ranges stay inside the list.
    static func chunks(_ bytes: UnsafeRawBufferPointer) {
        let payload = ByteBuffer(bytes: bytes)
        if let entries = try? ChunkEntry.list(from: payload) {
            var again = ByteBuffer()
            for entry in entries {
                precondition(entry.length >= 1 && entry.length <= ProtocolLimits.maxChunkSize, "bad length accepted")
                entry.write(to: &again)
            }
            precondition(again == payload, "a chunk list does not re-encode to its bytes")
        }
        let numbers = bytes.prefix(16).map { Int($0) - 8 }
        let ranges = stride(from: 0, to: numbers.count - 1, by: 2).map { [numbers[$0], numbers[$0 + 1]] }
        if let flags = try? ChunkNeed(ranges: ranges).needed(count: 64) {
            precondition(flags.count == 64 && ChunkNeed(needed: flags).ranges.count <= ranges.count, "bad ranges")
        }
    }
}
