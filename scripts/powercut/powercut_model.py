"""The two states of powercutfs: live nodes, and what of them a power cut would leave.

Kept apart from the FUSE glue so that the sync rules can be tested without mounting anything
(test_powercut_model.py).
"""

import time

# Names the LD_PRELOAD shim gives the files it creates for O_TMPFILE (FUSE cannot create unnamed
# files): they are never committed, so a cut loses them as ext4 loses an unlinked inode.
UNNAMED_PREFIX = b".powercut-unnamed-"


def named(entries):
    return {name: ino for name, ino in entries.items() if not name.startswith(UNNAMED_PREFIX)}


class Node:
    """One inode: a file ("f"), folder ("d"), symlink ("l") or other node ("o")."""

    __slots__ = (
        "ino", "kind", "mode", "uid", "gid", "rdev", "atime", "mtime", "ctime",
        "nlink", "data", "target", "entries", "xattrs", "special",
    )

    def __init__(self, ino, kind, mode, uid, gid):
        now = time.time_ns()
        self.ino, self.kind, self.mode, self.uid, self.gid = ino, kind, mode, uid, gid
        self.rdev = 0
        self.atime = self.mtime = self.ctime = now
        self.nlink = 0
        self.data = bytearray()
        self.target = b""
        self.entries = {}
        self.xattrs = {}
        self.special = False

    def size(self):
        if self.kind == "f":
            return len(self.data)
        if self.kind == "l":
            return len(self.target)
        return 4096 if self.kind == "d" else 0

    def touch(self):
        self.mtime = self.ctime = time.time_ns()

    def attributes(self):
        return (self.kind, self.mode, self.uid, self.gid, self.rdev, self.atime, self.mtime, self.ctime,
                self.target, dict(self.xattrs))


class DurableState:
    """What has reached stable storage: attributes, file data and folder entries, by inode.

    Metadata changes not yet committed are remembered as dirty folders and inodes, so that a
    commit (ext4's journal) copies only what changed.
    """

    def __init__(self, model):
        assert model in ("ext4", "strict")
        self.model = model
        self.attributes = {}
        self.data = {}
        self.entries = {}
        self.dirty_folders = set()
        self.dirty_inodes = set()
        self.truncations = {}
        self.renames = []

    def load_from(self, nodes):
        """Everything loaded from a saved state is durable."""
        for node in nodes.values():
            self.commit_node(node)

    # --- what changed ----------------------------------------------------------------------

    def changed_entries(self, folder):
        self.dirty_folders.add(folder)
        self.dirty_inodes.add(folder)

    def changed_attributes(self, ino):
        self.dirty_inodes.add(ino)

    def truncated(self, ino, size):
        """A truncation is metadata: a commit makes the durable data that short."""
        self.dirty_inodes.add(ino)
        self.truncations[ino] = min(size, self.truncations.get(ino, size))

    def renamed(self, old_folder, old_name, new_folder, new_name, ino):
        self.renames.append((old_folder, old_name, new_folder, new_name, ino))

    # --- syncs -----------------------------------------------------------------------------

    def commit_node(self, node):
        self.attributes[node.ino] = node.attributes()
        if node.kind == "f":
            self.data[node.ino] = bytes(node.data)
            self.truncations.pop(node.ino, None)
        if node.kind == "d":
            self.commit_entries(node)

    def commit_entries(self, folder):
        self.entries[folder.ino] = named(folder.entries)

    def born(self, nodes, folder):
        """A child whose name is now durable exists durably, empty if its data never was."""
        for ino in named(folder.entries).values():
            if ino in self.attributes:
                continue
            child = nodes[ino]
            self.attributes[ino] = child.attributes()
            if child.kind == "f":
                self.data[ino] = b""
            if child.kind == "d":
                self.entries[ino] = {}

    def commit_metadata(self, nodes):
        """ext4's journal commit: every pending metadata change, no file's data."""
        for ino in self.dirty_folders:
            if ino in nodes:
                self.commit_entries(nodes[ino])
        for ino in self.dirty_folders:
            if ino in nodes:
                self.born(nodes, nodes[ino])
        for ino in self.dirty_inodes:
            if ino in nodes and ino in self.attributes:
                self.attributes[ino] = nodes[ino].attributes()
        for ino, size in self.truncations.items():
            if ino in self.data:
                self.data[ino] = self.data[ino][:size]
        self.dirty_folders.clear()
        self.dirty_inodes.clear()
        self.truncations.clear()
        self.renames.clear()

    def sync_file(self, nodes, ino):
        node = nodes[ino]
        if self.model == "ext4":
            self.commit_metadata(nodes)
        self.attributes[ino] = node.attributes()
        if node.kind == "f":
            self.data[ino] = bytes(node.data)
            self.truncations.pop(ino, None)

    def sync_directory(self, nodes, ino):
        if self.model == "ext4":
            self.commit_metadata(nodes)
            return
        folder = nodes[ino]
        self.commit_rename_partners(nodes, ino)
        self.commit_entries(folder)
        self.attributes[ino] = folder.attributes()
        self.born(nodes, folder)

    def commit_rename_partners(self, nodes, ino):
        """A rename is atomic: syncing either of its folders commits both of its sides."""
        kept = []
        for old_folder, old_name, new_folder, new_name, moved in self.renames:
            if ino not in (old_folder, new_folder):
                kept.append((old_folder, old_name, new_folder, new_name, moved))
                continue
            if self.entries.get(old_folder, {}).get(old_name) == moved:
                del self.entries[old_folder][old_name]
            if new_folder in self.entries and not new_name.startswith(UNNAMED_PREFIX):
                self.entries[new_folder][new_name] = moved
                if moved not in self.attributes:
                    self.attributes[moved] = nodes[moved].attributes()
                    self.data.setdefault(moved, b"")
        self.renames = kept

    def sync_all(self, nodes):
        """syncfs: everything."""
        for node in nodes.values():
            self.commit_node(node)
        self.dirty_folders.clear()
        self.dirty_inodes.clear()
        self.truncations.clear()
        self.renames.clear()

    # --- after the cut ---------------------------------------------------------------------

    def reconstruct(self, nodes, root=1):
        """The nodes a remount finds: what is reachable from the root through durable entries."""
        rebuilt = {}
        pending = [root]
        while pending:
            ino = pending.pop()
            if ino in rebuilt or ino not in self.attributes:
                continue
            kind, mode, uid, gid, rdev, atime, mtime, ctime, target, xattrs = self.attributes[ino]
            node = Node(ino, kind, mode, uid, gid)
            node.rdev, node.atime, node.mtime, node.ctime = rdev, atime, mtime, ctime
            node.target, node.xattrs = target, dict(xattrs)
            if kind == "f":
                node.data = bytearray(self.data.get(ino, b""))
            if kind == "d":
                node.entries = {name: child for name, child in self.entries.get(ino, {}).items()
                                if child in self.attributes}
                pending.extend(node.entries.values())
            rebuilt[ino] = node
        for node in rebuilt.values():
            node.nlink = 2 if node.kind == "d" else 0
        rebuilt[root].nlink = 2
        for node in rebuilt.values():
            if node.kind != "d":
                continue
            for child in node.entries.values():
                if rebuilt[child].kind == "d":
                    node.nlink += 1
                else:
                    rebuilt[child].nlink += 1
        return rebuilt
