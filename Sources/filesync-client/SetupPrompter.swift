import FileSyncCore
import FileSyncSystem
import Foundation

/// The questions of `filesync-client setup`, one at a time on the terminal, each with its default
/// in brackets (Enter takes it), as the server's setup asks them; a bad answer is explained and
/// asked again.
struct SetupPrompter {
    var read: () -> String? = { readLine(strippingNewline: true) }
    var write: (String) -> Void = {
        print($0, terminator: "")
        fflush(nil)
    }

    /// Asks until `parse` accepts the answer (or the default, for an empty answer).
    func ask<T>(_ prompt: String, default value: String, parse: (String) throws -> T) throws -> T {
        while true {
            write("\(prompt) [\(value)]: ")
            guard let line = read() else { throw Self.cancelled }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            do {
                return try parse(trimmed.isEmpty ? value : trimmed)
            } catch let error as FileSyncError {
                write("  \(error.message). Please try again.\n")
            }
        }
    }

    /// A line read with the terminal's echo off (a secret), after `prompt`.
    func askHidden(_ prompt: String) throws -> String {
        let line = TerminalInput.withoutEcho { () -> String? in
            write(prompt)
            return read()
        }
        write("\n")
        guard let line else { throw Self.cancelled }
        return line.trimmingCharacters(in: .whitespaces)
    }

    /// A yes or no question.
    func confirm(_ prompt: String, default yes: Bool) throws -> Bool {
        try ask(prompt, default: yes ? "y" : "n") { answer in
            switch answer.lowercased() {
            case "y", "yes": return true
            case "n", "no": return false
            default: throw FileSyncError(.invalidSetting, "answer y or n")
            }
        }
    }

    static let cancelled = FileSyncError(.invalidSetting, "setup cancelled: no more input; nothing was saved")
}
