import FileSyncCore
import Logging
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

extension SessionRetriesTests {
    static func refusal(_ code: String, hint: Int?) -> ServerRefusal {
        ServerRefusal(error: ErrorMessage(code: code, message: "later", retryAfterSeconds: hint))
    }

    @Test(
        "the wait after a refusal is the server's retryAfterSeconds (held to 1 ... 600 s, up to 10% more), else the backoff"
    )
    func hintedDelay() {
        for _ in 0..<20 {
            let hinted = SessionRetries.delay(
                after: Self.refusal("queueFull", hint: 42), failures: 5, first: .seconds(1))
            #expect(hinted >= .seconds(42) && hinted <= .milliseconds(46_200), "\\(hinted)")
            let huge = SessionRetries.delay(
                after: Self.refusal("serverBusy", hint: 100_000), failures: 1, first: .seconds(1))
            #expect(huge >= .seconds(600) && huge <= .seconds(660), "\\(huge)")
            let tiny = SessionRetries.delay(after: Self.refusal("queueFull", hint: -3), failures: 1, first: .seconds(1))
            #expect(tiny >= .seconds(1) && tiny <= .milliseconds(1_100), "\\(tiny)")
            // No hint (an older server): the backoff, 1 s doubled per failure, ±25%.
            let blind = SessionRetries.delay(
                after: Self.refusal("queueFull", hint: nil), failures: 3, first: .seconds(1))
            #expect(blind >= .seconds(3) && blind <= .seconds(5), "\\(blind)")
        }
    }

    @Test("a run refused with queueFull and a 1 s hint waits that second, not its 1 ms backoff, then succeeds")
    func runHonoursTheHint() async throws {
        var options = BackupOptions(
            source: "", clientID: try ClientID(validating: "laptop"), interface: "127.0.0.1",
            authenticator: Authenticator(secret: [UInt8](repeating: 1, count: 32)),
            clientKey: [UInt8](repeating: 9, count: 32), knownServersPath: "/nonexistent/known_servers")
        options.server = try Endpoint(parsing: "127.0.0.1:9")
        options.retryWait = .milliseconds(1)
        let clock = ContinuousClock()
        let retries = SessionRetries(
            options: options, logger: Logger(label: "test"), stats: TransferStats(), start: clock.now)
        let attempts = Counter()
        let started = clock.now
        let (result, retried) = try await retries.run { _, _ in
            attempts.add()
            if attempts.value == 1 { throw Self.refusal("queueFull", hint: 1) }
            return "done"
        }
        #expect(result == "done" && retried == 1)
        #expect(clock.now - started >= .seconds(1))
    }
}
