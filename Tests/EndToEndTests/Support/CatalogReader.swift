import GRDB

/// The server's chunk catalog of client `id` (`<root>/.filesync/<id>/catalog.sqlite`), opened read-only.
/// The server may be reading it for the snapshot that follows a session: reads wait up to 10 s.
func openCatalog(root: String, id: String) throws -> DatabaseQueue {
    var configuration = Configuration()
    configuration.readonly = true
    configuration.busyMode = .timeout(10)
    return try DatabaseQueue(path: root + "/.filesync/\(id)/catalog.sqlite", configuration: configuration)
}
