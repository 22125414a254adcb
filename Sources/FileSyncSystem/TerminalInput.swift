#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The terminal on standard input, for interactive setup.
public enum TerminalInput {
    /// Whether standard input is a terminal (setup asks its questions only there).
    public static var isTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Runs `body` with the terminal's echo off (a pasted secret is not shown), restoring it after,
    /// whatever happens. Echo is off before `body` prints its prompt, so nothing typed after the
    /// prompt is shown; nothing pending is discarded.
    public static func withoutEcho<T>(_ body: () throws -> T) rethrows -> T {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return try body() }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        return try body()
    }
}
