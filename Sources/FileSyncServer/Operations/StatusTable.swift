/// The `status` command's text: one row per client, then the live state.
public enum StatusTable {
    static let headers = [
        "CLIENT", "STATE", "LAST SUCCESS", "AGE", "LAST ATTEMPT", "RESULT", "FAILS", "FILES", "SIZE", "SNAPSHOTS",
    ]

    public static func render(_ status: ServerStatus) -> String {
        var rows = [headers]
        for client in status.clients {
            rows.append([
                client.id, client.freshness.rawValue, client.lastSuccess.map(StatusText.time) ?? "never",
                client.lastSuccessAgeSeconds.map(StatusText.age) ?? "-", client.lastAttempt.map(StatusText.time) ?? "-",
                StatusText.result(client),
                "\(client.consecutiveFailures)", "\(client.filesStored)", StatusText.bytes(client.bytesStored),
                client.snapshots.map(String.init) ?? "-",
            ])
        }
        let widths = headers.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        if status.clients.isEmpty { lines.append("(no client has connected yet)") }
        let stale = StatusText.age(status.staleAfterSeconds)
        lines.append(
            "fresh: last success within \(StatusText.age(status.lateAfterSeconds)); stale: older than \(stale)")
        if let live = status.live {
            lines.append("server running: " + StatusText.live(live))
        } else {
            lines.append("server not running (read from disk)")
        }
        if let free = status.storageFreeBytes { lines.append("storage free: \(StatusText.bytes(free))") }
        return lines.joined(separator: "\n")
    }
}
