import CFileSyncShims
import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Extended attributes (POSIX ACLs included) read and applied relative to a folder descriptor,
/// never following the entry (Protocol.md §6.9). Only the names ``ExtendedAttribute/isRecorded(_:)``
/// accepts are read or touched.
public enum ExtendedAttributes {
    /// The recorded attributes of `name` in `directory` (of `directory` itself when `name` is
    /// `nil`), sorted by name; a filesystem without extended attributes has none. An attribute that
    /// vanishes or changes size while it is read is read again once, then left out.
    public static func read(in directory: Int32, name: String?) -> [ExtendedAttribute] {
        var attributes: [ExtendedAttribute] = []
        for attribute in names(in: directory, name: name).filter(ExtendedAttribute.isRecorded) {
            if let value = value(of: attribute, in: directory, name: name) {
                attributes.append(ExtendedAttribute(name: attribute, value: value))
            }
        }
        return attributes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// Makes the recorded attributes of `name` in `directory` (of `directory` itself when `name` is
    /// `nil`) those of `wanted`: each attribute that differs is set, each recorded one that `wanted`
    /// lacks is removed; names `allowed` refuses are neither set nor removed. Returns the names that
    /// could not be set or removed.
    public static func apply(
        _ wanted: [ExtendedAttribute], in directory: Int32, name: String?, allowed: (String) -> Bool = { _ in true }
    ) -> [String] {
        let held = read(in: directory, name: name)
        var failed: [String] = []
        let wantedNames = Set(wanted.map(\.name))
        for attribute in held where !wantedNames.contains(attribute.name) && allowed(attribute.name) {
            if filesync_xattr_remove(directory, name, attribute.name) != 0 && errno != ENODATA {
                failed.append(attribute.name)
            }
        }
        let current = Dictionary(held.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        for attribute in wanted where allowed(attribute.name) && current[attribute.name] != attribute.value {
            let result = attribute.value.withUnsafeBytes {
                filesync_xattr_set(directory, name, attribute.name, $0.baseAddress, $0.count)
            }
            if result != 0 { failed.append(attribute.name) }
        }
        return failed
    }

    /// The names of all the attributes of the entry (an empty list on any error).
    private static func names(in directory: Int32, name: String?) -> [String] {
        for _ in 0..<2 {
            let size = filesync_xattr_list(directory, name, nil, 0)
            guard size > 0 else { return [] }
            var buffer = [CChar](repeating: 0, count: size)
            let count = filesync_xattr_list(directory, name, &buffer, size)
            if count < 0 && errno == ERANGE { continue }
            guard count > 0 else { return [] }
            return buffer.prefix(count).split(separator: 0).compactMap {
                String(validating: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return []
    }

    /// The value of `attribute`, or `nil` when it cannot be read.
    private static func value(of attribute: String, in directory: Int32, name: String?) -> [UInt8]? {
        for _ in 0..<2 {
            let size = filesync_xattr_get(directory, name, attribute, nil, 0)
            guard size >= 0 else { return nil }
            if size == 0 { return [] }
            var buffer = [UInt8](repeating: 0, count: size)
            let count = buffer.withUnsafeMutableBytes {
                filesync_xattr_get(directory, name, attribute, $0.baseAddress, $0.count)
            }
            if count < 0 && errno == ERANGE { continue }
            guard count >= 0 else { return nil }
            return Array(buffer.prefix(count))
        }
        return nil
    }
}
