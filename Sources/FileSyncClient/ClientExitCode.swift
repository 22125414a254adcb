/// The client's exit codes (documented in the README and `--help`).
public enum ClientExitCode: Int32 {
    case success = 0
    case runtimeFailure = 1
    case someFilesFailed = 23
    case usage = 64
    /// `--delete` with an empty source folder: the run deleted nothing (an unmounted disk looks like
    /// this), and says so with a code of its own so that cron reports it.
    case emptySourceRefused = 66
    case noServer = 69
    case alreadyRunning = 73
    case connectionLost = 75
    case serverIdentity = 76
    case authenticationFailed = 77
    case clientKeyMismatch = 78
}
