import FileSyncSystem
import Testing

@Suite("Heap tuning") struct HeapTuningTests {
    #if os(Linux)
        @Test("glibc takes the thresholds that keep transfer buffers in the heap")
        func thresholdsTaken() {
            #expect(HeapTuning.keepTransferBuffers())
            // Large buffers allocated and freed after it still work, and the trim returns.
            for size in [1 << 20, 3 << 20, 40 << 20] {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
                buffer.initializeMemory(as: UInt8.self, repeating: 7)
                #expect(buffer.load(fromByteOffset: size - 1, as: UInt8.self) == 7)
                buffer.deallocate()
            }
            HeapTuning.releaseFreedMemory()
        }
    #endif
}
