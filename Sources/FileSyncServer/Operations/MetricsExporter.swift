import Prometheus

/// The Prometheus text of `/metrics`, written by swift-prometheus from a fresh registry filled from
/// the status at each scrape (the session history is the truth; nothing is counted twice).
public enum MetricsExporter {
    public static func text(_ status: ServerStatus) -> String {
        let registry = PrometheusCollectorRegistry()
        for client in status.clients {
            let labels = [("client", client.id)]
            if let time = client.lastSuccess {
                registry.makeGauge(
                    descriptor: Self.name(
                        "last_success_timestamp_seconds",
                        "End of the client's last successful backup (ok or partial), Unix time."), labels: labels
                ).set(to: time)
            }
            if let time = client.lastAttempt {
                registry.makeGauge(
                    descriptor: Self.name(
                        "last_attempt_timestamp_seconds",
                        "End of the client's last backup session, whatever its result, Unix time."), labels: labels
                ).set(to: time)
            }
            if let seconds = client.lastDurationSeconds {
                registry.makeGauge(
                    descriptor: Self.name(
                        "backup_duration_seconds",
                        "Seconds the client's last successful backup was active (queue wait excluded)."), labels: labels
                ).set(to: seconds)
            }
            registry.makeCounter(
                descriptor: Self.name(
                    "backup_bytes_stored_total",
                    "Bytes of new and changed files the client's backups stored, over the kept history."),
                labels: labels
            ).increment(by: client.bytesStoredTotal)
            registry.makeGauge(
                descriptor: Self.name(
                    "backup_files_failed", "Files the client's last successful backup could not store."), labels: labels
            ).set(to: Double(client.lastFilesFailed ?? 0))
            registry.makeGauge(
                descriptor: Self.name("storage_bytes", "Bytes of the client's tree at its last successful backup."),
                labels: labels
            ).set(to: Double(client.bytesStored))
            for (result, count) in client.sessions.sorted(by: { $0.key < $1.key }) {
                registry.makeCounter(
                    descriptor: Self.name(
                        "sessions_total",
                        "Sessions of the client by result (ok, partial, failed, refused), over the kept history."),
                    labels: [("client", client.id), ("result", result)]
                ).increment(by: Int64(count))
            }
        }
        registry.makeGauge(descriptor: Self.name("queue_length", "Sessions waiting for their turn."))
            .set(to: Double(status.live?.queue.count ?? 0))
        registry.makeGauge(descriptor: Self.name("active_sessions", "Sessions having their turn now (0 or 1)."))
            .set(to: status.live?.active == nil ? 0 : 1)
        if let free = status.storageFreeBytes {
            registry.makeGauge(
                descriptor: Self.name("storage_free_bytes", "Free bytes on the storage root's filesystem.")
            )
            .set(to: Double(free))
        }
        return registry.emitToString()
    }

    /// `filesync_<name>`, with its help text.
    static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "filesync", metricName: name, unitName: "", helpText: help)
    }
}
