import Foundation

/// A client's last 30 days as an inline SVG, drawn on the server (the page runs no script): one bar
/// per successful backup for the bytes it stored, one dot per backup for how long it took, each
/// scaled to its own largest value (given in the caption).
public enum StatusChart {
    static let (width, height, days) = (300.0, 60.0, 30.0)

    public static func svg(_ runs: [SessionRecord], now: Double, clientId: String) -> String {
        if runs.isEmpty { return "<div class=\"legend\">no backup in the last 30 days</div>" }
        let maxBytes = max(1, runs.map(\.bytesStored).max() ?? 0)
        let maxSeconds = max(1, runs.map(\.secondsActive).max() ?? 0)
        let start = now - days * 86_400
        var shapes: [String] = []
        for run in runs {
            let x = ((run.endedAt - start) / (days * 86_400) * (width - 4)).clamped(0, width - 4)
            let barHeight = max(1, Double(run.bytesStored) / Double(maxBytes) * (height - 4))
            shapes.append(
                "<rect x=\"\(fixed(x))\" y=\"\(fixed(height - barHeight))\" width=\"3\" height=\"\(fixed(barHeight))\" fill=\"#4a7fb5\"/>"
            )
            let y = height - 2 - run.secondsActive / maxSeconds * (height - 6)
            shapes.append("<circle cx=\"\(fixed(x + 1.5))\" cy=\"\(fixed(y))\" r=\"2\" fill=\"#d9822b\"/>")
        }
        let title = "\(HTML.escape(clientId)): \(runs.count) backups in 30 days"
        return """
            <svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(title)" \
            xmlns="http://www.w3.org/2000/svg"><title>\(title)</title>\
            <rect width="\(Int(width))" height="\(Int(height))" fill="#f6f8fa"/>\(shapes.joined())</svg>\
            <div class="legend"><span class="bytes">&#9632;</span> stored, max \(StatusText.bytes(maxBytes)) \
            <span class="secs">&#9679;</span> duration, max \(StatusText.age(maxSeconds))</div>
            """
    }

    private static func fixed(_ value: Double) -> String { String(format: "%.1f", value) }
}

extension Double {
    fileprivate func clamped(_ low: Double, _ high: Double) -> Double { Swift.min(Swift.max(self, low), high) }
}

/// Escaping for text put into the page.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
