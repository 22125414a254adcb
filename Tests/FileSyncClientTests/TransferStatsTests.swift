import Testing

@testable import FileSyncClient

@Suite("Transfer stats") struct TransferStatsTests {
    @Test("the stop report names the file in flight and what of it the server keeps")
    func stopReport() {
        let stats = TransferStats()
        #expect(stats.stopReport == "stopped: what the server acknowledged is stored; the rest goes next run")
        stats.negotiated(resume: true)
        stats.started("big.bin", at: 40_000_000)
        stats.sent(5_000_000, of: "big.bin", at: 40_000_000)
        stats.sent(123_456, of: "big.bin", at: 45_000_000)
        #expect(stats.inFlight == TransferStats.InFlight(path: "big.bin", sent: 45_123_456))
        #expect(stats.stopReport == "stopped: about 45.1 MB of big.bin kept on the server, resumed next run")
        stats.finished()
        #expect(stats.inFlight == nil)
        stats.started("vm.img", at: 0, counting: false)
        stats.sent(1_000, of: "vm.img", at: 0)
        #expect(stats.stopReport == "stopped: part of vm.img may be kept on the server, resumed next run")
        stats.negotiated(resume: false)
        #expect(
            stats.stopReport
                == "stopped: vm.img was being sent; this server keeps no partial files, it goes again next run")
        #expect(stats.contentBytesSent == 5_124_456)
    }

    @Test("content counted after its file ended (its batch written late) is not added to the next file in flight")
    func lateCount() {
        let stats = TransferStats()
        stats.started("a.bin", at: 0)
        stats.finished()
        stats.started("b.bin", at: 0)
        stats.sent(4_096, of: "a.bin", at: 0)
        stats.sent(100, of: "b.bin", at: 0)
        #expect(stats.inFlight == TransferStats.InFlight(path: "b.bin", sent: 100))
        #expect(stats.contentBytesSent == 4_196)
    }

    @Test("bytes resent are those at offsets an earlier session already sent, file by file")
    func resent() {
        let stats = TransferStats()
        // A first session sends 3 MiB of a file and the first 1 MiB of another, then is cut.
        stats.sent(3 << 20, of: "a.bin", at: 0)
        stats.sent(1 << 20, of: "b.bin", at: 0)
        // The next resumes a.bin at 2 MiB (the last 1 MiB was lost in flight) and sends b.bin whole.
        stats.sent(2 << 20, of: "a.bin", at: 2 << 20)
        stats.sent(4 << 20, of: "b.bin", at: 0)
        #expect(stats.bytesResent == (1 << 20) + (1 << 20))
        #expect(stats.contentBytesSent == 10 << 20)
        // Another file, sent once, adds nothing.
        stats.sent(100, of: "c.txt", at: 0)
        #expect(stats.bytesResent == 2 << 20)
    }

    @Test("progress counts a delta file's bytes as they go: sent and already held alike")
    func deltaProgress() {
        let stats = TransferStats()
        stats.planned(files: 1, bytes: 10 << 20, newSession: true)
        stats.progressed(current: "vm.img")
        stats.started("vm.img", at: 0, counting: false)
        #expect(stats.progress.bytesDone == 0)
        stats.deduplicated(3 << 20)
        stats.sent(1 << 20, of: "vm.img", at: 3 << 20)
        #expect(stats.progress.bytesDone == 4 << 20)
        stats.finished()
        stats.progressed(current: nil, finishedSize: 10 << 20)
        #expect(stats.progress.bytesDone == 10 << 20)
    }
}
