extension StatusReader {
    /// `status` judged by this reader's limits and expected clients: each client's freshness
    /// recomputed from its age, and the expected ones without a record added as `never`.
    public func rejudge(_ status: ServerStatus) -> ServerStatus {
        var status = status
        status.staleAfterSeconds = staleAfter
        status.lateAfterSeconds = lateAfter
        for index in status.clients.indices {
            let age = status.clients[index].lastSuccess.map { max(0, status.generatedAt - $0) }
            status.clients[index].lastSuccessAgeSeconds = age
            status.clients[index].freshness = .of(age: age, lateAfter: lateAfter, staleAfter: staleAfter)
        }
        let known = Set(status.clients.map(\.id))
        for id in Set(expected).subtracting(known) {
            status.clients.append(ClientStatus(id: id, freshness: .never))
        }
        status.clients.sort { $0.id < $1.id }
        return status
    }
}
