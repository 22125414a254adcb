"""The sync rules of powercutfs, without mounting anything: python3 -m unittest discover scripts/powercut."""

import stat
import unittest

from powercut_model import UNNAMED_PREFIX, DurableState, Node


class Tree:
    """Live nodes with the bookkeeping powercutfs does on each request."""

    def __init__(self, model):
        root = Node(1, "d", stat.S_IFDIR | 0o755, 0, 0)
        root.nlink = 2
        self.nodes = {1: root}
        self.next = 2
        self.durable = DurableState(model)
        self.durable.load_from(self.nodes)

    def create(self, parent, name, kind="f"):
        node = Node(self.next, kind, (stat.S_IFDIR if kind == "d" else stat.S_IFREG) | 0o644, 0, 0)
        self.next += 1
        self.nodes[node.ino] = node
        self.nodes[parent].entries[name] = node.ino
        self.durable.changed_entries(parent)
        return node.ino

    def write(self, ino, data):
        self.nodes[ino].data[:] = data

    def rename(self, old_parent, old_name, new_parent, new_name):
        ino = self.nodes[old_parent].entries.pop(old_name)
        self.nodes[new_parent].entries[new_name] = ino
        self.durable.changed_entries(old_parent)
        self.durable.changed_entries(new_parent)
        self.durable.renamed(old_parent, old_name, new_parent, new_name, ino)

    def after_cut(self):
        return self.durable.reconstruct(self.nodes)


def content(nodes, *names):
    ino = 1
    for name in names:
        ino = nodes[ino].entries.get(name)
        if ino is None:
            return None
    return bytes(nodes[ino].data)


class ModelTests(unittest.TestCase):
    def test_nothing_synced_is_lost(self):
        for model in ("ext4", "strict"):
            tree = Tree(model)
            tree.write(tree.create(1, b"a"), b"hello")
            self.assertIsNone(content(tree.after_cut(), b"a"), model)

    def test_fsync_keeps_data_and_ext4_also_the_name(self):
        tree = Tree("ext4")
        ino = tree.create(1, b"a")
        tree.write(ino, b"hello")
        tree.durable.sync_file(tree.nodes, ino)
        self.assertEqual(content(tree.after_cut(), b"a"), b"hello")

    def test_strict_needs_the_folder_synced_for_the_name(self):
        tree = Tree("strict")
        ino = tree.create(1, b"a")
        tree.write(ino, b"hello")
        tree.durable.sync_file(tree.nodes, ino)
        self.assertIsNone(content(tree.after_cut(), b"a"))
        tree.durable.sync_directory(tree.nodes, 1)
        self.assertEqual(content(tree.after_cut(), b"a"), b"hello")

    def test_a_durable_name_without_durable_data_comes_back_empty(self):
        for model in ("ext4", "strict"):
            tree = Tree(model)
            tree.write(tree.create(1, b"a"), b"hello")
            tree.durable.sync_directory(tree.nodes, 1)
            self.assertEqual(content(tree.after_cut(), b"a"), b"", model)

    def test_a_later_unsynced_write_leaves_the_synced_content(self):
        tree = Tree("ext4")
        ino = tree.create(1, b"a")
        tree.write(ino, b"old")
        tree.durable.sync_file(tree.nodes, ino)
        tree.write(ino, b"new!")
        self.assertEqual(content(tree.after_cut(), b"a"), b"old")

    def test_a_rename_is_atomic_in_the_strict_model(self):
        tree = Tree("strict")
        folder = tree.create(1, b"d", "d")
        ino = tree.create(folder, b"tmp")
        tree.write(ino, b"data")
        tree.durable.sync_file(tree.nodes, ino)
        tree.durable.sync_directory(tree.nodes, folder)
        tree.durable.sync_directory(tree.nodes, 1)
        tree.rename(folder, b"tmp", 1, b"final")
        tree.durable.sync_directory(tree.nodes, 1)
        nodes = tree.after_cut()
        self.assertEqual(content(nodes, b"final"), b"data")
        self.assertIsNone(content(nodes, b"d", b"tmp"))

    def test_unnamed_files_never_survive_but_their_link_does(self):
        tree = Tree("ext4")
        hidden = UNNAMED_PREFIX + b"1-1"
        ino = tree.create(1, hidden)
        tree.write(ino, b"data")
        tree.durable.sync_file(tree.nodes, ino)
        self.assertIsNone(content(tree.after_cut(), hidden))
        tree.rename(1, hidden, 1, b"linked")
        tree.durable.sync_directory(tree.nodes, 1)
        nodes = tree.after_cut()
        self.assertEqual(content(nodes, b"linked"), b"data")
        self.assertNotIn(hidden, nodes[1].entries)

    def test_a_committed_truncation_shortens_the_durable_data(self):
        tree = Tree("ext4")
        ino = tree.create(1, b"a")
        tree.write(ino, b"0123456789")
        tree.durable.sync_file(tree.nodes, ino)
        tree.write(ino, b"")
        tree.durable.truncated(ino, 0)
        other = tree.create(1, b"b")
        tree.durable.sync_file(tree.nodes, other)
        self.assertEqual(content(tree.after_cut(), b"a"), b"")

    def test_syncfs_keeps_everything(self):
        tree = Tree("strict")
        folder = tree.create(1, b"d", "d")
        tree.write(tree.create(folder, b"x"), b"x")
        tree.durable.sync_all(tree.nodes)
        self.assertEqual(content(tree.after_cut(), b"d", b"x"), b"x")


if __name__ == "__main__":
    unittest.main()
