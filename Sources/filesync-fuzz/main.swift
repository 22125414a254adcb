// filesync-fuzz: built with -sanitize=fuzzer (`make fuzz`), it hands its arguments to libFuzzer,
// which drives LLVMFuzzerTestOneInput (FuzzEntry.swift). Built normally, it is a replayer that runs
// every file given (or every file in the folders given) through the same targets, so the corpus
// stays a regression test in `make test`.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
typealias FuzzDriver =
    @convention(c) (
        UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        FuzzCallback
    ) -> Int32

// libFuzzer's LLVMFuzzerRunDriver exists only in the fuzzer build (linked with --export-dynamic).
if let driver = dlsym(nil, "LLVMFuzzerRunDriver") {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let run = unsafeBitCast(driver, to: FuzzDriver.self)
    exit(
        run(&argc, &argv) { data, size in
            FuzzTargets.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
}

var files: [String] = []
for argument in CommandLine.arguments.dropFirst() {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
        FileHandle.standardError.write(Data("filesync-fuzz: no such file or folder: \(argument)\n".utf8))
        exit(64)
    }
    if isDirectory.boolValue {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
        files += names.sorted().map { argument + "/" + $0 }
    } else {
        files.append(argument)
    }
}
for file in files {
    let data = FileManager.default.contents(atPath: file) ?? Data()
    data.withUnsafeBytes { FuzzTargets.run($0) }
}
print("filesync-fuzz: replayed \(files.count) input\(files.count == 1 ? "" : "s") without a failure")
