/// The libFuzzer entry point: each input goes through ``FuzzTargets/run(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
