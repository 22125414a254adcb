/// Reproducible inputs shared by the core tests.
enum TestData {
    /// `count` bytes of repetitive source-like text: compresses well.
    static func text(_ count: Int) -> [UInt8] {
        Array(
            String(repeating: "let value = compute(index) // a line of source code\n", count: count / 50 + 1).utf8
                .prefix(count))
    }

    /// `count` pseudo-random bytes from ``SeededGenerator``, eight per draw: incompressible, and the
    /// same for the same seed.
    static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 8)
        while bytes.count < count { withUnsafeBytes(of: generator.next()) { bytes += $0 } }
        return Array(bytes.prefix(count))
    }
}

/// SplitMix64: a small deterministic generator for reproducible test data.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
