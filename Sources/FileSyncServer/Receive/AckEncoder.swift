import FileSyncCore
import NIOCore

/// The frames that carry file results to the client (Protocol.md §4 FILE_ACK, §5.5): `FILE_ACK`
/// messages, split so that each stays within the control-frame limit, or, with binary tasks, ack
/// frames naming each file by its manifest entry.
struct AckEncoder {
    private let control: ControlMessageEncoder
    /// With binary tasks: the manifest's paths, to acknowledge files by entry number.
    private let entries: PathSet?

    init(entries: PathSet?, control: ControlMessageEncoder = ControlMessageEncoder()) {
        self.entries = entries
        self.control = control
    }

    /// The frames acknowledging `results`: one or more.
    func frames(for results: [FileResult]) throws -> [Frame] {
        guard let entries else { return try control.frames(.fileAck(FileAck(files: results))) }
        let numbered = try results.map { result in
            guard let entry = entries.index(of: result.path) else {
                throw FileSyncError(.internalError, "\"\(result.path)\" was received but is not in the manifest")
            }
            return (entry: entry, result: result)
        }
        return BinaryAcks.acks(for: numbered).map { Frame(kind: .ack, payload: BinaryAcks.encode($0)) }
    }
}
