import FileSyncCore

/// What the server keeps about one client beside its files: `<root>/.filesync/<client-id>/`, with
/// the partial files (`partial/`), the chunk catalog (`catalog.sqlite`), the in-place patch journal
/// (`patch.journal`) and the key the id is bound to (`client.key`). The one place that spells
/// these paths.
struct ClientStateDirectory: Sendable {
    /// `<root>/.filesync`: the state of every client.
    static func stateRoot(_ root: String) -> String { root + "/.filesync" }

    let root: String
    let id: ClientID
    /// `<root>/.filesync/<client-id>`.
    let path: String

    init(root: String, id: ClientID) {
        self.root = root
        self.id = id
        self.path = Self.stateRoot(root) + "/\(id)"
    }

    /// Where the partial files are kept (``PartialStore``).
    var partials: String { path + "/partial" }
    /// The key file the id is bound to (``ClientKeyStore``).
    var key: String { path + "/client.key" }

    /// Opens (creating if needed) the client's chunk catalog.
    func openCatalog() throws -> ChunkCatalog { try ChunkCatalog(directory: path) }

    /// The client's partial store, its folder created if needed.
    func openPartials() throws -> PartialStore { try PartialStore(root: root, id: id) }
}
