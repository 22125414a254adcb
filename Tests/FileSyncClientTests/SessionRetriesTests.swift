import FileSyncCore
import Testing

@testable import FileSyncClient

@Suite("Session retries")
struct SessionRetriesTests {
    @Test(
        "a refusal for a transient server condition is retried; one that is the client's problem is final",
        arguments: [
            ("queueFull", true), ("serverBusy", true), ("storageFailed", false), ("authenticationFailed", false),
            ("clientKeyMismatch", false), ("unexpectedMessage", false),
        ])
    func refusals(code: String, retried: Bool) {
        let refusal = ServerRefusal(error: ErrorMessage(code: code, message: "refused"))
        #expect(SessionRetries.isRetryable(refusal) == retried)
    }

    @Test("lost connections and timeouts are retried")
    func localFailures() {
        #expect(SessionRetries.isRetryable(FileSyncError(.connectionClosed, "closed")))
        #expect(SessionRetries.isRetryable(FileSyncError(.timeout, "idle")))
        #expect(!SessionRetries.isRetryable(FileSyncError(.invalidSetting, "bad flag")))
    }
}
