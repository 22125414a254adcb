import FileSyncCore
import Foundation
import Synchronization

/// A test-only record of every file the server acknowledged as stored, one path per line, written
/// the moment each acknowledgement arrives; it exists only when `FILESYNC_TEST_ACK_LOG` names a
/// file. The power-cut harness reads it after cutting a session short, to check that everything
/// acknowledged survived.
final class AckTrace: Sendable {
    static let variable = "FILESYNC_TEST_ACK_LOG"

    private let manifest: PackedManifest
    private let handle: Mutex<FileHandle>

    /// The trace the environment asks for, if any (appended to, created if needed).
    static func fromEnvironment(manifest: PackedManifest) -> AckTrace? {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return nil }
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return nil }
        handle.seekToEndOfFile()
        return AckTrace(manifest: manifest, handle: handle)
    }

    private init(manifest: PackedManifest, handle: FileHandle) {
        self.manifest = manifest
        self.handle = Mutex(handle)
    }

    func record(_ files: [FileResult]) {
        write(files.filter { $0.error == nil }.map(\.path))
    }

    func record(_ ack: BinaryAcks.Ack) {
        var paths: [String] = []
        for run in ack.stored where run.upperBound <= manifest.count {
            for entry in run { paths.append(manifest.path(at: entry)) }
        }
        write(paths)
    }

    private func write(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        let text = paths.map { $0 + "\n" }.joined()
        handle.withLock { $0.write(Data(text.utf8)) }
    }
}
