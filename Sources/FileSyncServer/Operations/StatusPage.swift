import FileSyncCore

/// The `/` page: one row per client coloured by freshness, the live queue, and each client's chart.
/// Plain HTML and inline SVG with an inline style sheet: no script, nothing loaded from elsewhere.
/// Shows client ids, times and sizes only: never a secret, a key or a file name.
public enum StatusPage {
    public static func html(_ status: ServerStatus, charts: [String: [SessionRecord]]) -> String {
        let rows = status.clients.map { client in
            let chart = StatusChart.svg(charts[client.id] ?? [], now: status.generatedAt, clientId: client.id)
            let age = client.lastSuccessAgeSeconds.map { " (\(StatusText.age($0)) ago)" } ?? ""
            return """
                <tr class="\(client.freshness.rawValue)" data-client="\(HTML.escape(client.id))">\
                <td class="id">\(HTML.escape(client.id))</td><td class="state">\(client.freshness.rawValue)</td>\
                <td>\(client.lastSuccess.map(StatusText.time) ?? "never")\(age)</td>\
                <td>\(HTML.escape(StatusText.result(client)))\
                \(client.consecutiveFailures > 0 ? ", \(client.consecutiveFailures) failed since" : "")</td>\
                <td>\(StatusText.bytes(client.bytesStored)) in \(Plural.count(client.filesStored, "file"))\
                \(client.snapshots.map { ", " + Plural.count($0, "snapshot") } ?? "")</td><td>\(chart)</td></tr>
                """
        }
        let body =
            rows.isEmpty
            ? "<p>No client has connected yet.</p>"
            : """
            <div class="scroll"><table><thead><tr><th>Client</th><th>State</th><th>Last success</th>\
            <th>Last result</th><th>Size</th><th>Last 30 days</th></tr></thead><tbody>
            \(rows.joined(separator: "\n"))
            </tbody></table></div>
            """
        let live = status.live.map { "<p id=\"live\">\(HTML.escape(StatusText.live($0)))</p>" } ?? ""
        let free = status.storageFreeBytes.map { "<p>Storage free: \(StatusText.bytes($0))</p>" } ?? ""
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="60">
            <title>filesync status</title>
            <style>\(style)</style></head>
            <body><h1>filesync backups</h1>
            <p class="note">Generated \(StatusText.time(status.generatedAt)). Fresh: within \
            \(StatusText.age(status.lateAfterSeconds)); stale: older than \(StatusText.age(status.staleAfterSeconds)).</p>
            \(live)
            \(body)
            \(free)
            </body></html>
            """
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:1em;color:#222}h1{font-size:1.3em}
        .scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
        th,td{padding:.4em .6em;text-align:left;border-bottom:1px solid #ccc;vertical-align:top}
        tr.fresh{background:#d4edda}tr.late{background:#fff3cd}tr.stale{background:#f8d7da}
        tr.never{background:#e2e3e5}.state{font-weight:bold}.note{color:#555;font-size:.9em}
        .chart{width:100%;max-width:300px;min-width:160px;height:auto;display:block}
        .legend{font-size:.75em;color:#555}.bytes{color:#4a7fb5}.secs{color:#d9822b}
        @media (max-width:600px){table,tbody,tr,td{display:block}thead{display:none}
        td{border:none;padding:.15em .6em}tr{border-bottom:1px solid #999;padding:.4em 0}td.id{font-size:1.1em}}
        """
}
