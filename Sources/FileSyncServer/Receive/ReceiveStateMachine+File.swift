import FileSyncCore

extension ReceiveStateMachine {
    // MARK: - One file, as FILE_HEADER, data frames and FILE_END or FILE_ABORT

    mutating func begin(_ header: FileHeader) throws -> [Action] {
        guard current == nil else {
            throw FileSyncError(.unexpectedMessage, "FILE_HEADER arrived before the previous file ended")
        }
        let path = try claim(header.path)
        guard header.size >= 0, header.size <= ProtocolLimits.maxFileSize, header.mode <= 0o7777 else {
            throw FileSyncError(.malformedMessage, "FILE_HEADER for \"\(header.path)\" has an invalid size or mode")
        }
        if let transfer = header.transfer { return try beginChunked(header, path: path, transfer: transfer) }
        let offset = header.offset ?? 0
        if offset != 0 {
            guard let offer = agreement.offers[header.path], offer.offset == offset, offset <= header.size else {
                throw FileSyncError(
                    .unexpectedMessage, "FILE_HEADER offset \(offset) for \"\(header.path)\" was not offered")
            }
            current = .receiving(header, received: offset)
            return [.open(header, path, resume: offer)]
        }
        current = .receiving(header, received: 0)
        // The client's file did not start like the partial: it is sent whole instead.
        return removingOffer(for: header.path) + [.open(header, path, resume: nil)]
    }

    /// A chunked or delta transfer must be what the task offered (a client may always stream a
    /// `delta` task as `chunked`).
    private mutating func beginChunked(
        _ header: FileHeader, path: RelativePath, transfer: TransferTask.Kind
    ) throws -> [Action] {
        guard agreement.hasCatalog, let offered = agreement.chunkTasks[header.path],
            transfer == offered || (offered == .delta && transfer == .chunked), (header.offset ?? 0) == 0
        else {
            throw FileSyncError(
                .unexpectedMessage, "FILE_HEADER for \"\(header.path)\" asks for a transfer that was not offered")
        }
        current = .assembling(header)
        return removingOffer(for: header.path) + [.openChunked(header, path, transfer)]
    }

    /// The path of a file the client starts to send, which must be one it was asked for and has not
    /// sent yet.
    private mutating func claim(_ path: String) throws -> RelativePath {
        let relative = try RelativePath(validating: path)
        guard agreement.expected.remove(path) else {
            throw FileSyncError(.unexpectedMessage, "\"\(path)\" was not requested or was sent already")
        }
        return relative
    }

    private func removingOffer(for path: String) -> [Action] {
        agreement.offers[path].map { [.removePartial(name: $0.name)] } ?? []
    }

    mutating func data() throws -> [Action] {
        switch current {
        case nil: throw FileSyncError(.unexpectedMessage, "a data frame arrived outside a file")
        case .assembling: throw FileSyncError(.unexpectedMessage, "a data frame arrived during a chunked transfer")
        case .receiving, .discarding: return [.decodeData]
        }
    }

    /// A data frame's content, `bytes` long, is written (or dropped, for a file that cannot be
    /// stored) only while the file stays within the size its header announced: a byte more ends the
    /// session before anything is written.
    mutating func dataDecoded(_ bytes: Int) throws -> [Action] {
        switch current {
        case .receiving(let header, let received):
            current = .receiving(header, received: try Self.within(header, received, plus: bytes))
            return [.write]
        case .discarding(let header, let received, let error):
            current = .discarding(header, received: try Self.within(header, received, plus: bytes), error: error)
            return []
        case .assembling, nil:
            throw FileSyncError(.internalError, "data decoded outside a plain transfer")
        }
    }

    private static func within(_ header: FileHeader, _ received: Int64, plus bytes: Int) throws -> Int64 {
        let total = received + Int64(bytes)
        guard total <= header.size else {
            throw FileSyncError(
                .sizeMismatch, "more data than the \(header.size) bytes announced for \"\(header.path)\"")
        }
        return total
    }

    mutating func storageFailed(_ error: FileSyncError) -> [Action] {
        if case .receiving(let header, let received) = current {
            current = .discarding(header, received: received, error: error)
        }
        return []
    }

    mutating func end() throws -> [Action] {
        guard let current else { throw FileSyncError(.unexpectedMessage, "FILE_END arrived outside a file") }
        self.current = nil
        switch current {
        case .receiving: return [.finishFile]
        case .assembling: return [.finishAssembly]
        case .discarding(let header, let received, let error):
            guard received == header.size else {
                throw FileSyncError(
                    .sizeMismatch, "received \(received) of \(header.size) bytes for \"\(header.path)\"")
            }
            failed += 1
            return [.acknowledge([FileResult(path: header.path, error: ErrorMessage(error))])]
        }
    }

    mutating func abort(_ reason: String) throws -> [Action] {
        guard let current else { throw FileSyncError(.unexpectedMessage, "FILE_ABORT arrived outside a file") }
        self.current = nil
        failed += 1
        let error = FileSyncError(.aborted, "the client abandoned the file: \(reason)")
        return [.abandonFile, .acknowledge([FileResult(path: current.header.path, error: ErrorMessage(error))])]
    }

    // MARK: - A file frame, the whole file at once

    func fileFrame() throws -> [Action] {
        guard agreement.fileFrames else {
            throw FileSyncError(.unexpectedMessage, "a file frame, but fileFrames was not negotiated")
        }
        guard current == nil else {
            throw FileSyncError(.unexpectedMessage, "a file frame arrived before the previous file ended")
        }
        return [.decodeWholeFile]
    }

    mutating func wholeFile(_ header: FileHeader) throws -> [Action] {
        let path = try claim(header.path)
        return removingOffer(for: header.path) + [.storeWholeFile(header, path, unnamed: policy.mayHoldUnnamed)]
    }

    // MARK: - The end

    /// `DONE`: the last batch is committed and acknowledged.
    mutating func done() throws -> [Action] {
        guard current == nil else {
            throw FileSyncError(.unexpectedMessage, "DONE arrived in the middle of a file")
        }
        isDone = true
        return (committing ? [.awaitCommit] : []) + (policy.hasPending ? [.commitPending, .awaitCommit] : [])
    }
}
