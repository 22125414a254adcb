/// Reproducible inputs shared by the test targets.
public enum TestData {
    /// `count` bytes of repetitive source-like text: compresses well.
    public static func text(_ count: Int) -> [UInt8] {
        Array(
            String(repeating: "let value = compute(index) // a line of source code\n", count: count / 50 + 1).utf8
                .prefix(count))
    }

    /// `count` pseudo-random bytes from a ``SeededGenerator`` seeded with `seed`: incompressible,
    /// and the same for the same seed.
    public static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return bytes(count, from: &generator)
    }

    /// The next `count` bytes of `generator`, eight per draw, least significant byte first.
    public static func bytes(_ count: Int, from generator: inout SeededGenerator) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<8 where index < count {
                result[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return result
    }
}
