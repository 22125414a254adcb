import FileSyncCore

/// The tasks of a plan, held compactly: the paths back to back in a ``PathList``, a kind byte each,
/// and the offsets of the few `resume` tasks aside; about 5 bytes a task besides its path, against
/// 64 or more for a ``TransferTask`` (and about 50 more for a path longer than 15 bytes). A first
/// backup of a million files then plans in tens of megabytes. Tasks are read back as
/// ``TransferTask`` values, made on demand; a task's kind (and resume offer) can be changed in
/// place, its path cannot.
public struct PlannedTasks: Sendable, Equatable {
    private var paths = PathList()
    private var kinds: [UInt8] = []
    /// The offer of each `resume` task, by position.
    private var resumes: [Int: Resume] = [:]

    private struct Resume: Sendable, Equatable {
        var offset: Int64?
        var prefixSha256: String?
    }

    /// The kinds by their code, as in tasks frames; other kinds are not planned.
    private static var kindCodes: [TransferTask.Kind] { BinaryTasks.kinds }

    public init() {}

    public init(_ tasks: some Sequence<TransferTask>) throws {
        for task in tasks { try append(task) }
    }

    /// Appends `task`.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths.
    public mutating func append(_ task: TransferTask) throws {
        var path = task.path
        try path.withUTF8 { try paths.append(UnsafeRawBufferPointer($0)) }
        kinds.append(0)
        self[kinds.count - 1] = task
    }

    /// Appends every task of `other`.
    public mutating func append(contentsOf other: PlannedTasks) throws {
        let base = kinds.count
        try paths.append(contentsOf: other.paths)
        kinds += other.kinds
        for (position, resume) in other.resumes { resumes[base + position] = resume }
    }

    /// The path of the task at `position`, without making the whole task.
    public func path(at position: Int) -> String { paths.path(at: position) }

    /// The kind of the task at `position`, without making the whole task.
    public func kind(at position: Int) -> TransferTask.Kind { Self.kindCodes[Int(kinds[position])] }

    public static func == (lhs: PlannedTasks, rhs: PlannedTasks) -> Bool {
        lhs.count == rhs.count && lhs.indices.allSatisfy { lhs[$0] == rhs[$0] }
    }
}

// MARK: - Collection

extension PlannedTasks: RandomAccessCollection, MutableCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { kinds.count }

    /// The task at `position`. Setting it changes its kind and resume offer; the path stays.
    public subscript(position: Int) -> TransferTask {
        get {
            let kind = Self.kindCodes[Int(kinds[position])]
            let resume = resumes[position]
            return TransferTask(
                path: paths.path(at: position), kind: kind, offset: resume?.offset, prefixSha256: resume?.prefixSha256)
        }
        set {
            precondition(newValue.path == paths.path(at: position), "a planned task keeps its path")
            guard let code = Self.kindCodes.firstIndex(of: newValue.kind) else {
                preconditionFailure("a task of kind \(newValue.kind.rawValue) cannot be planned")
            }
            kinds[position] = UInt8(code)
            if newValue.offset != nil || newValue.prefixSha256 != nil {
                resumes[position] = Resume(offset: newValue.offset, prefixSha256: newValue.prefixSha256)
            } else {
                resumes[position] = nil
            }
        }
    }
}
