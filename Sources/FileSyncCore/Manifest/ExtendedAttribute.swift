import Foundation

/// One extended attribute of a file or folder (capability `xattrs`, Protocol.md §6.9): its name and
/// value, verbatim. POSIX ACLs travel as the attributes `system.posix_acl_access` and
/// `system.posix_acl_default`, in the kernel's binary form (numeric user and group ids).
///
/// JSON form: `{"name": "user.note", "value": "<base64>"}`.
public struct ExtendedAttribute: Codable, Sendable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// Longest name, in UTF-8 bytes (Linux's `XATTR_NAME_MAX`).
    public static let maxNameBytes = 255
    /// Largest value (Linux's `XATTR_SIZE_MAX`).
    public static let maxValueBytes = 65_536
    /// Most attributes of one entry.
    public static let maxCount = 64
    /// Most bytes of one entry's attributes, names and values together.
    public static let maxTotalBytes = 262_144

    /// The names that are recorded and applied: `user.*`, the two POSIX ACLs and
    /// `security.capability`. Others (`trusted.*`, `security.selinux`...) belong to the machine,
    /// not to the file's content, and are neither read nor sent nor touched.
    public static func isRecorded(_ name: String) -> Bool {
        name.hasPrefix("user.") || name == posixACLAccess || name == posixACLDefault || name == capability
    }

    public static let posixACLAccess = "system.posix_acl_access"
    public static let posixACLDefault = "system.posix_acl_default"
    public static let capability = "security.capability"

    private enum CodingKeys: String, CodingKey { case name, value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        guard let data = Data(base64Encoded: try container.decode(String.self, forKey: .value)) else {
            throw DecodingError.dataCorruptedError(
                forKey: .value, in: container, debugDescription: "an extended attribute's value is not base64")
        }
        value = Array(data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(Data(value).base64EncodedString(), forKey: .value)
    }
}

extension [ExtendedAttribute] {
    /// Checks the form of an entry's list: names not empty, without NUL, sorted by their UTF-8
    /// bytes, each once (so that a list has one encoding).
    ///
    /// - Throws: `malformedMessage`.
    public func checkForm(of path: String) throws {
        var previous: String.UTF8View?
        for attribute in self {
            let name = attribute.name.utf8
            guard !name.isEmpty, !name.contains(0) else {
                throw FileSyncError(.malformedMessage, "entry \"\(path)\" has an extended attribute without a name")
            }
            if let previous, !previous.lexicographicallyPrecedes(name) {
                throw FileSyncError(
                    .malformedMessage, "entry \"\(path)\": extended attribute names must be sorted and distinct")
            }
            previous = name
        }
    }

    /// Why this list breaks the bounds of Protocol.md §6.9 (the entry is then rejected, the
    /// session goes on), or `nil` when it does not.
    public var boundsViolation: String? {
        guard count <= ExtendedAttribute.maxCount else {
            return "\(count) extended attributes; at most \(ExtendedAttribute.maxCount) are kept"
        }
        var total = 0
        for attribute in self {
            let name = attribute.name.utf8.count
            guard name <= ExtendedAttribute.maxNameBytes else {
                return "an extended attribute's name has \(name) bytes; at most \(ExtendedAttribute.maxNameBytes)"
            }
            guard ExtendedAttribute.isRecorded(attribute.name) else {
                return "the extended attribute \(attribute.name) is not one that is kept"
            }
            guard attribute.value.count <= ExtendedAttribute.maxValueBytes else {
                return "the extended attribute \(attribute.name) has \(attribute.value.count) bytes; "
                    + "at most \(ExtendedAttribute.maxValueBytes) are kept"
            }
            total += name + attribute.value.count
        }
        guard total <= ExtendedAttribute.maxTotalBytes else {
            return "the extended attributes have \(total) bytes; at most \(ExtendedAttribute.maxTotalBytes) are kept"
        }
        return nil
    }

    /// Bytes of the list in a manifest frame.
    public var encodedBytes: Int { 2 + reduce(0) { $0 + 1 + $1.name.utf8.count + 4 + $1.value.count } }
}
