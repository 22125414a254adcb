import FileSyncCore
import Foundation
import Testing

@Suite("PLAN message")
struct DryRunPlanTests {
    @Test("PLAN round-trips through JSON with its type, and decodes from the spec's example")
    func roundTrip() throws {
        let plan = DryRunPlan(
            entries: [
                .init(path: "docs/new.txt", action: .new), .init(path: "old.txt", action: .delete),
                .init(path: "pics", action: .rejected, reason: "the server holds a non-folder here"),
            ], final: true)
        #expect(try Message(frame: Message.plan(plan).frame()) == .plan(plan))
        let example = Data(
            #"{"type":"PLAN","entries":[{"path":"docs\/new.txt","action":"new"},{"path":"old.txt","action":"delete"},{"path":"pics","action":"rejected","reason":"the server holds a non-folder here"}],"final":true}"#
                .utf8)
        #expect(try JSONDecoder().decode(Message.self, from: example) == .plan(plan))
    }

    @Test(
        "a client refuses a part that breaks the rules",
        arguments: [
            DryRunPlan(entries: [.init(path: "../x", action: .new)], final: true),
            DryRunPlan(entries: [.init(path: "a", action: .new, reason: "why")], final: true),
            DryRunPlan(entries: [.init(path: "a", action: .rejected)], final: true),
            DryRunPlan(entries: [], final: false, omitted: 3),
            DryRunPlan(entries: [], final: true, omitted: -1),
            DryRunPlan(entries: Array(repeating: .init(path: "a", action: .meta), count: 10_001), final: true),
        ])
    func invalid(plan: DryRunPlan) {
        #expect(throws: FileSyncError.self) { try plan.validated() }
    }

    @Test("an unknown action is a malformed message")
    func unknownAction() {
        let payload = Data(#"{"type":"PLAN","entries":[{"path":"a","action":"explode"}],"final":true}"#.utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Message.self, from: payload) }
    }
}
