import FileSyncCore

extension ReceiveStateMachine {
    /// A frame received, or the outcome of an ``Action``.
    enum Event {
        case fileHeader(FileHeader)
        /// A data frame (before it is decompressed).
        case data
        /// The current file's data frame was decompressed: it holds `bytes` of content.
        case dataDecoded(bytes: Int)
        /// The current file cannot be stored (it was opened or written in vain); it is discarded.
        case storageFailed(FileSyncError)
        case chunkList
        case chunk
        /// A file frame, before it is decoded.
        case fileFrame
        /// The header of the decoded file frame.
        case wholeFile(FileHeader)
        case fileEnd
        case fileAbort(reason: String)
        case done
        /// A frame of a kind never allowed during the transfer.
        case frame(Frame.Kind)
        /// A control message never allowed during the transfer.
        case message(Message.Kind)

        /// A verified file of `bytes` is queued for the next commit.
        case queued(bytes: Int64, unnamed: Bool)
        /// The file failed alone (checksum, storage): acknowledged at once.
        case failed(FileResult)
        /// A file patched in place is durable: acknowledged at once.
        case patched(FileResult)
        /// A file was dealt with; `committerIdle`: the batch being committed, if any, is done.
        case settled(committerIdle: Bool)
        /// The pending files went to the committer.
        case commitStarted
        /// The batch being committed is done.
        case committed([FileResult])
        /// The batch being committed is done, but the session is ending: nothing is acknowledged.
        case committedUnacknowledged([FileResult])
    }

    /// What the receiver does next.
    enum Action {
        /// Opens the partial of a plain transfer, resuming after `resume.offset` if given.
        case open(FileHeader, RelativePath, resume: PartialStore.Offer?)
        /// Starts a chunked or delta transfer.
        case openChunked(FileHeader, RelativePath, TransferTask.Kind)
        /// Deletes a partial no longer useful (the client sent its file anew).
        case removePartial(name: String)
        /// Decompresses the data frame and reports ``Event/dataDecoded(bytes:)``.
        case decodeData
        /// Writes the decoded data frame to the current file.
        case write
        case acceptChunkList
        case acceptChunk
        /// Decodes the file frame and reports ``Event/wholeFile(_:)``.
        case decodeWholeFile
        /// Verifies and stores the decoded file frame, holding it unnamed if `unnamed`.
        case storeWholeFile(FileHeader, RelativePath, unnamed: Bool)
        /// Verifies the current plain file against `FILE_END` and queues it.
        case finishFile
        /// Verifies the current chunked or delta file against `FILE_END`.
        case finishAssembly
        /// The client abandoned the current file (FILE_ABORT): its partial is deleted.
        case abandonFile
        /// Sends these results (FILE_ACK, or ack frames with binary tasks).
        case acknowledge([FileResult])
        /// Waits for the batch being committed and reports ``Event/committed(_:)``.
        case awaitCommit
        /// Hands the pending files to the committer and reports ``Event/commitStarted``.
        case commitPending
    }
}
