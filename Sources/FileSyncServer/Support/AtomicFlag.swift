import Synchronization

/// A flag one task sets and another reads without waiting: "this is done".
final class AtomicFlag: Sendable {
    private let state = Atomic(false)

    /// Whether ``set()`` was called.
    var isSet: Bool { state.load(ordering: .acquiring) }

    /// Raises the flag; it stays raised.
    func set() { state.store(true, ordering: .releasing) }
}
