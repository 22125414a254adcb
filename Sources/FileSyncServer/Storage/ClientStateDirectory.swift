import FileSyncCore

/// What the server keeps about one client beside its files: `<root>/.filesync/<client-id>/`, with
/// the partial files (`partial/`), the chunk catalog (`catalog.sqlite`), the in-place patch journal
/// (`patch.journal`), the history (`history/`) and the key the id is bound to (`client.key`). The
/// one place that spells these paths.
struct ClientStateDirectory: Sendable {
    /// The folder under the root that holds every client's state.
    static let folderName = ".filesync"
    /// The partials' folder, in a client's state folder.
    static let partialsName = "partial"
    /// The in-place patch journal's name, in a client's state folder.
    static let journalName = "patch.journal"

    /// `<root>/.filesync`: the state of every client.
    static func stateRoot(_ root: String) -> String { root + "/" + folderName }

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
    var partials: String { path + "/" + Self.partialsName }
    /// The folders from the root down to the partials, in order.
    var partialsComponents: [String] { [Self.folderName, id.string, Self.partialsName] }
    /// The key file the id is bound to (``ClientKeyStore``).
    var key: String { path + "/client.key" }
    /// The in-place patch journal (``InPlacePatch``).
    var journal: String { path + "/" + Self.journalName }
    /// The client's history (``HistoryStore``).
    var history: String { path + "/history" }

    /// Opens (creating if needed) the client's chunk catalog.
    func openCatalog() throws -> ChunkCatalog { try ChunkCatalog(directory: path) }

    /// The client's partial store, its folder created if needed.
    func openPartials() throws -> PartialStore { try PartialStore(self) }
}
