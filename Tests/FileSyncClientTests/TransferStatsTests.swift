import Testing

@testable import FileSyncClient

@Suite("Transfer stats") struct TransferStatsTests {
    @Test("the stop report names the file in flight and what of it the server keeps")
    func stopReport() {
        let stats = TransferStats()
        #expect(stats.stopReport == "stopped: what the server acknowledged is stored; the rest goes next run")
        stats.negotiated(resume: true)
        stats.started("big.bin", at: 40_000_000)
        stats.sent(5_000_000)
        stats.sent(123_456)
        #expect(stats.inFlight == TransferStats.InFlight(path: "big.bin", sent: 45_123_456))
        #expect(stats.stopReport == "stopped: about 45.1 MB of big.bin kept on the server, resumed next run")
        stats.finished()
        #expect(stats.inFlight == nil)
        stats.started("vm.img", at: 0, counting: false)
        stats.sent(1_000)
        #expect(stats.stopReport == "stopped: part of vm.img may be kept on the server, resumed next run")
        stats.negotiated(resume: false)
        #expect(
            stats.stopReport
                == "stopped: vm.img was being sent; this server keeps no partial files, it goes again next run")
        #expect(stats.contentBytesSent == 5_124_456)
    }
}
