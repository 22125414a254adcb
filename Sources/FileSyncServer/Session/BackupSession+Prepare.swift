import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension BackupSession {
    /// What preparing a plan left to report: the folders, symlinks and nodes that could not be
    /// made, and the devices the server lacked the privilege to make (Protocol.md §6.10).
    struct Prepared: Sendable {
        var failures: [FileResult] = []
        var devices: [ManifestEntry] = []

        /// The devices to record in the session's snapshot, or, without history to hold them,
        /// the failures they are; the failures of the rest are kept as they are.
        func recordingDevices(history: Bool) throws -> (failures: [FileResult], devices: RecordedDevices) {
            var recorded = RecordedDevices()
            var failed = failures
            for device in devices {
                if history {
                    try recorded.add(device)
                } else {
                    let error = FileSyncError.storage("create (as root only) the device", device.path, errno: EPERM)
                    failed.append(FileResult(path: device.path, error: ErrorMessage(error)))
                }
            }
            return (failed, recorded)
        }
    }

    /// Reports what preparing the plan could not make: the failures, acknowledged as failed before
    /// `NEXT_SYNC`, and the devices left to the snapshot (or failed, without `history`).
    func settle(
        _ prepared: Prepared, history: Bool, receiver: FileReceiver, context: SessionContext
    ) async throws -> (failures: [FileResult], devices: RecordedDevices) {
        let (failures, devices) = try prepared.recordingDevices(history: history)
        if !devices.isEmpty {
            context.logger.info(
                "devices recorded in the snapshot only: this server may not make them",
                metadata: ["devices": "\(devices.count)"])
        }
        if !failures.isEmpty {
            for failure in failures { FileReceiver.log(failure, context) }
            try await receiver.acknowledge(failures, context: context)
        }
        return (failures, devices)
    }

    /// Creates the folders, symlinks and nodes and applies the mode changes of a plan, which need no
    /// transfer, with a handle on the client folder of its own (it runs while the files arrive).
    /// Returns the entries that could not be made, as failed results, and the devices left to the
    /// snapshot.
    static func prepare(
        directories: [ManifestEntry], modeUpdates: [ManifestEntry], symlinks: [ManifestEntry] = [], root: String,
        id: ClientID
    ) async throws -> Prepared {
        guard !directories.isEmpty || !modeUpdates.isEmpty || !symlinks.isEmpty else { return Prepared() }
        let folder = try ClientFolder(root: root, id: id)
        var prepared = Prepared()
        for directory in directories {
            do {
                try folder.makeDirectory(RelativePath(validating: directory.path), mode: directory.mode)
            } catch let error as FileSyncError {
                prepared.failures.append(FileResult(path: directory.path, error: ErrorMessage(error)))
            }
        }
        for link in symlinks {
            do {
                if link.type != .special {
                    try folder.makeSymlink(link)
                } else if try !folder.makeSpecial(link) {
                    prepared.devices.append(link)
                }
            } catch let error as FileSyncError {
                prepared.failures.append(FileResult(path: link.path, error: ErrorMessage(error)))
            }
        }
        for entry in modeUpdates {
            try? folder.setMode(of: RelativePath(validating: entry.path), to: entry.mode)
        }
        return prepared
    }
}
