import FileSyncCore

/// First-come, first-served admission of backup sessions: exactly one is active, the rest wait.
///
/// Pure state; the server's ``SessionQueue`` actor turns its actions into messages and resumptions.
public struct QueueStateMachine: Sendable {
    /// One connection's place in the queue.
    public struct Ticket: Hashable, Sendable, Comparable {
        public let number: UInt64
        public static func < (lhs: Ticket, rhs: Ticket) -> Bool { lhs.number < rhs.number }
    }

    /// What ``enqueue()`` decided.
    public enum Admission: Equatable, Sendable {
        /// The session may start now.
        case start(Ticket)
        /// The session waits; `position` 1 means next.
        case wait(Ticket, position: Int)
        /// Too many sessions are waiting already.
        case rejected
    }

    /// What follows from a ticket leaving.
    public struct Departure: Equatable, Sendable {
        /// The ticket that becomes active, if the active one left and someone was waiting.
        public var promoted: Ticket?
        /// Waiting tickets whose position changed, with their new position.
        public var moved: [Ticket: Int]
    }

    public private(set) var active: Ticket?
    public private(set) var waiting: [Ticket] = []
    private var nextNumber: UInt64 = 0
    public let maxWaiting: Int

    public init(maxWaiting: Int = 64) {
        self.maxWaiting = maxWaiting
    }

    /// Adds a session at the back of the line.
    public mutating func enqueue() -> Admission {
        if active != nil && waiting.count >= maxWaiting { return .rejected }
        nextNumber += 1
        let ticket = Ticket(number: nextNumber)
        if active == nil {
            active = ticket
            return .start(ticket)
        }
        waiting.append(ticket)
        return .wait(ticket, position: waiting.count)
    }

    /// Removes a ticket, whether active or waiting; unknown tickets are ignored.
    public mutating func leave(_ ticket: Ticket) -> Departure {
        if active == ticket {
            active = nil
            var departure = Departure(promoted: nil, moved: [:])
            if !waiting.isEmpty {
                let next = waiting.removeFirst()
                active = next
                departure.promoted = next
            }
            for (index, other) in waiting.enumerated() { departure.moved[other] = index + 1 }
            return departure
        }
        guard let index = waiting.firstIndex(of: ticket) else { return Departure(promoted: nil, moved: [:]) }
        waiting.remove(at: index)
        var moved: [Ticket: Int] = [:]
        for position in index..<waiting.count { moved[waiting[position]] = position + 1 }
        return Departure(promoted: nil, moved: moved)
    }

    /// The waiting position of `ticket` (1 = next), 0 when active, `nil` when unknown.
    public func position(of ticket: Ticket) -> Int? {
        if active == ticket { return 0 }
        return waiting.firstIndex(of: ticket).map { $0 + 1 }
    }
}
