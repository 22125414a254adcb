import FileSyncCore
import Foundation

extension ClientStateDirectory {
    /// The stored files to ask for at the next backup whatever their size and mtime say
    /// (``HardLinkAmbiguity``): a JSON array of paths, `resend.json`.
    var resendList: String { path + "/resend.json" }

    /// The paths of ``resendList``; none when it is absent or unreadable (the ambiguity that wrote it
    /// is then found again at the next link).
    func pathsToResend() -> Set<String> {
        guard let data = FileManager.default.contents(atPath: resendList),
            let paths = try? JSONDecoder().decode([String].self, from: data)
        else { return [] }
        return Set(paths.prefix(ProtocolLimits.maxEntriesPerPart))
    }

    /// Replaces ``resendList`` with `paths` (removes it when there are none).
    func setPathsToResend(_ paths: [String]) throws {
        guard !paths.isEmpty else {
            if FileManager.default.fileExists(atPath: resendList) {
                try FileManager.default.removeItem(atPath: resendList)
            }
            return
        }
        try JSONEncoder().encode(paths.sorted()).write(to: URL(fileURLWithPath: resendList), options: .atomic)
    }
}
