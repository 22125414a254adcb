#!/usr/bin/env python3
"""A FUSE file system that keeps every unsynced change in memory and can "cut the power".

Everything lives in memory, in two copies: the live state (what programs see) and the durable
state (what would survive a power cut). A change reaches the durable state only through a sync:

- fsync/fdatasync of a file makes that file's data and attributes durable;
- fsync of a folder makes its entries durable (with a rename, both of its folders' sides);
- syncfs makes everything durable (FUSE does not forward syncfs: the LD_PRELOAD shim
  syncfs_shim.c turns a syncfs on this file system into a write of "syncfs" to CONTROL);
- model "ext4" (the default) adds what ext4's journal does: any fsync or fsyncdir also commits
  every pending metadata change (creates, renames, unlinks, links, modes, times, truncations),
  but never another file's data; model "strict" (POSIX's letter) commits only the object synced.

A new file whose name became durable but whose data never did comes back empty, as on ext4
with delayed allocation. The power is cut by --cut-after N (before the Nth mutating request;
with --cut-match REGEX, the Nth of those whose "<what> <path>" matches it), by SIGUSR1, or by writing "cut" to CONTROL: from then on every request fails with EIO (the
machine is off), a marker file is written, and SIGTERM saves the durable state to --state and
unmounts. Mounting again with the same --state brings back exactly what was durable. A SIGTERM
without a cut is a clean shutdown: everything live is saved.
"""

import argparse
import errno
import os
import pickle
import re
import signal
import stat
import sys
import time

import pyfuse3
import trio

from powercut_model import UNNAMED_PREFIX, DurableState, Node, named

CONTROL = b".powercut"
ROOT = pyfuse3.ROOT_INODE


class PowerCutFS(pyfuse3.Operations):
    enable_writeback_cache = False

    def __init__(self, nodes, next_ino, model, cut_after, marker, trace=None, cut_match=None):
        super().__init__()
        self.trace = trace
        self.nodes = nodes
        self.next_ino = next_ino
        self.handles = {}
        self.next_fh = 1
        self.durable = DurableState(model)
        self.durable.load_from(nodes)
        self.cut_after = cut_after
        self.marker = marker
        self.mutations = 0
        # With --cut-match, --cut-after counts only the requests that match it (a phase: pack
        # writes, an in-place patch), so that a cut can be aimed at a phase of few requests.
        self.cut_match = re.compile(cut_match) if cut_match else None
        self.matching = 0
        self.dead = False
        self.names = {}  # ino -> (parent, name) of its latest link, to name the cut's request
        for node in nodes.values():
            for name, child in node.entries.items():
                self.names[child] = (node.ino, name)
        self.unnamed_linked = 0  # O_TMPFILE files (the shim's placeholders) renamed into place
        self.control_ino = self.new_node("f", stat.S_IFREG | 0o600).ino
        self.nodes[self.control_ino].special = True

    # --- the power --------------------------------------------------------------------------

    def cut(self, reason):
        if self.dead:
            return
        self.dead = True
        if self.marker:
            with open(self.marker, "w") as f:
                f.write(f"{reason}\n")

    def alive(self, mutating=False, what="", ino=None):
        if self.dead:
            raise pyfuse3.FUSEError(errno.EIO)
        if mutating:
            self.mutations += 1
            # Named only when something reads it: this runs for every mutating request.
            request = f"{what} {self.path_of(ino)}" if self.trace or self.cut_match else None
            if self.trace:
                self.trace.write(f"{self.mutations} {request}\n")
            counted = self.mutations
            if self.cut_match:
                if not self.cut_match.search(request):
                    return
                self.matching += 1
                counted = self.matching
            if self.cut_after and counted >= self.cut_after:
                self.cut(f"cut at request {self.mutations}: {request or f'{what} {self.path_of(ino)}'}")
                raise pyfuse3.FUSEError(errno.EIO)

    def path_of(self, ino):
        parts = []
        while ino is not None and ino != ROOT and ino in self.names and len(parts) < 64:
            ino, name = self.names[ino]
            parts.append(name.decode(errors="replace"))
        return "/" + "/".join(reversed(parts))

    def saved_state(self):
        """What survives: the durable state after a cut, everything after a clean shutdown."""
        if self.dead:
            return self.durable.reconstruct(self.nodes)
        self.durable.sync_all(self.nodes)
        return self.durable.reconstruct(self.nodes)

    # --- helpers ----------------------------------------------------------------------------

    def new_node(self, kind, mode, ctx=None):
        node = Node(self.next_ino, kind, mode, ctx.uid if ctx else 0, ctx.gid if ctx else 0)
        self.next_ino += 1
        self.nodes[node.ino] = node
        return node

    def node(self, ino):
        try:
            return self.nodes[ino]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ENOENT)

    def directory(self, ino):
        node = self.node(ino)
        if node.kind != "d":
            raise pyfuse3.FUSEError(errno.ENOTDIR)
        return node

    def attributes(self, node):
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = node.ino
        entry.generation = 0
        entry.entry_timeout = 0
        entry.attr_timeout = 0
        entry.st_mode = node.mode
        entry.st_nlink = node.nlink
        entry.st_uid = node.uid
        entry.st_gid = node.gid
        entry.st_rdev = node.rdev
        entry.st_size = node.size()
        entry.st_blksize = 4096
        entry.st_blocks = (node.size() + 511) // 512
        entry.st_atime_ns = node.atime
        entry.st_mtime_ns = node.mtime
        entry.st_ctime_ns = node.ctime
        return entry

    def link_into(self, parent, name, child):
        if name in parent.entries:
            raise pyfuse3.FUSEError(errno.EEXIST)
        parent.entries[name] = child.ino
        self.names[child.ino] = (parent.ino, name)
        child.nlink += 1
        if child.kind == "d":
            parent.nlink += 1
        parent.touch()
        self.durable.changed_entries(parent.ino)

    def unlink_from(self, parent, name):
        ino = parent.entries.pop(name)
        child = self.nodes[ino]
        child.nlink -= 1
        if child.kind == "d":
            parent.nlink -= 1
            child.nlink -= 1
        child.ctime = time.time_ns()
        parent.touch()
        self.durable.changed_entries(parent.ino)
        self.durable.changed_attributes(ino)

    # --- lookups ----------------------------------------------------------------------------

    async def lookup(self, parent_inode, name, ctx=None):
        self.alive()
        parent = self.directory(parent_inode)
        if name == b".":
            return self.attributes(parent)
        if parent_inode == ROOT and name == CONTROL:
            return self.attributes(self.nodes[self.control_ino])
        ino = parent.entries.get(name)
        if ino is None:
            raise pyfuse3.FUSEError(errno.ENOENT)
        return self.attributes(self.nodes[ino])

    async def getattr(self, inode, ctx=None):
        if self.dead:
            raise pyfuse3.FUSEError(errno.EIO)
        return self.attributes(self.node(inode))

    async def readlink(self, inode, ctx):
        self.alive()
        return self.node(inode).target

    async def access(self, inode, mode, ctx):
        self.alive()
        return True

    async def statfs(self, ctx):
        self.alive()
        result = pyfuse3.StatvfsData()
        result.f_bsize = result.f_frsize = 4096
        result.f_blocks = result.f_bfree = result.f_bavail = 1 << 26
        result.f_files = result.f_ffree = result.f_favail = 1 << 24
        result.f_namemax = 255
        return result

    # --- folders ----------------------------------------------------------------------------

    async def opendir(self, inode, ctx):
        self.alive()
        self.directory(inode)
        return inode

    async def readdir(self, fh, start_id, token):
        self.alive()
        entries = sorted(named(self.directory(fh).entries).items())
        for index, (name, ino) in enumerate(entries):
            if index < start_id:
                continue
            if not pyfuse3.readdir_reply(token, name, self.attributes(self.nodes[ino]), index + 1):
                break

    async def releasedir(self, fh):
        pass

    async def fsyncdir(self, fh, datasync):
        self.alive(True, "fsyncdir", fh)
        self.durable.sync_directory(self.nodes, fh)

    async def mkdir(self, parent_inode, name, mode, ctx):
        self.alive(True, f"mkdir {name!r} in", parent_inode)
        parent = self.directory(parent_inode)
        if name in parent.entries:
            raise pyfuse3.FUSEError(errno.EEXIST)
        child = self.new_node("d", stat.S_IFDIR | (mode & 0o7777), ctx)
        child.nlink = 1
        self.link_into(parent, name, child)
        return self.attributes(child)

    async def rmdir(self, parent_inode, name, ctx):
        self.alive(True, f"rmdir {name!r} in", parent_inode)
        parent = self.directory(parent_inode)
        ino = parent.entries.get(name)
        if ino is None:
            raise pyfuse3.FUSEError(errno.ENOENT)
        if self.nodes[ino].kind != "d":
            raise pyfuse3.FUSEError(errno.ENOTDIR)
        if named(self.nodes[ino].entries):
            raise pyfuse3.FUSEError(errno.ENOTEMPTY)
        self.nodes[ino].entries.clear()  # unnamed files left inside live on as orphans
        self.unlink_from(parent, name)

    # --- names ------------------------------------------------------------------------------

    async def mknod(self, parent_inode, name, mode, rdev, ctx):
        self.alive(True, f"mknod {name!r} in", parent_inode)
        parent = self.directory(parent_inode)
        kind = "f" if stat.S_ISREG(mode) else "o"
        child = self.new_node(kind, mode, ctx)
        child.rdev = rdev
        self.link_into(parent, name, child)
        return self.attributes(child)

    async def symlink(self, parent_inode, name, target, ctx):
        self.alive(True, f"symlink {name!r} in", parent_inode)
        parent = self.directory(parent_inode)
        child = self.new_node("l", stat.S_IFLNK | 0o777, ctx)
        child.target = bytes(target)
        self.link_into(parent, name, child)
        return self.attributes(child)

    async def unlink(self, parent_inode, name, ctx):
        self.alive(True, f"unlink {name!r} in", parent_inode)
        parent = self.directory(parent_inode)
        ino = parent.entries.get(name)
        if ino is None:
            raise pyfuse3.FUSEError(errno.ENOENT)
        if self.nodes[ino].kind == "d":
            raise pyfuse3.FUSEError(errno.EISDIR)
        self.unlink_from(parent, name)

    async def link(self, inode, new_parent_inode, new_name, ctx):
        self.alive(True, "link", inode)
        node = self.node(inode)
        if node.kind == "d":
            raise pyfuse3.FUSEError(errno.EPERM)
        self.link_into(self.directory(new_parent_inode), new_name, node)
        node.ctime = time.time_ns()
        self.durable.changed_attributes(inode)
        return self.attributes(node)

    async def rename(self, old_parent, old_name, new_parent, new_name, flags, ctx):
        self.alive(True, f"rename {old_name!r} -> {new_name!r} in", new_parent)
        source = self.directory(old_parent)
        target = self.directory(new_parent)
        ino = source.entries.get(old_name)
        if ino is None:
            raise pyfuse3.FUSEError(errno.ENOENT)
        if flags & ~1:  # RENAME_EXCHANGE and RENAME_WHITEOUT are not needed here
            raise pyfuse3.FUSEError(errno.EINVAL)
        existing = target.entries.get(new_name)
        if existing == ino:
            return
        if existing is not None:
            if flags & 1:
                raise pyfuse3.FUSEError(errno.EEXIST)
            if self.nodes[existing].kind == "d" and self.nodes[existing].entries:
                raise pyfuse3.FUSEError(errno.ENOTEMPTY)
            self.unlink_from(target, new_name)
        node = self.nodes[ino]
        self.unlink_from(source, old_name)
        self.link_into(target, new_name, node)
        if node.kind == "d":
            node.nlink += 1
        self.durable.renamed(old_parent, old_name, new_parent, new_name, ino)
        if old_name.startswith(UNNAMED_PREFIX) and not new_name.startswith(UNNAMED_PREFIX):
            self.unnamed_linked += 1

    # --- files ------------------------------------------------------------------------------

    def open_handle(self, ino):
        fh = self.next_fh
        self.next_fh += 1
        self.handles[fh] = ino
        return pyfuse3.FileInfo(fh=fh)

    async def create(self, parent_inode, name, mode, flags, ctx):
        self.alive(True, f"create {name!r} in", parent_inode)
        parent = self.directory(parent_inode)
        child = self.new_node("f", stat.S_IFREG | (mode & 0o7777), ctx)
        self.link_into(parent, name, child)
        return self.open_handle(child.ino), self.attributes(child)

    async def open(self, inode, flags, ctx):
        self.alive()
        node = self.node(inode)
        if flags & os.O_TRUNC and node.kind == "f" and not node.special:
            self.alive(True, "truncate", inode)
            node.data = bytearray()
            node.touch()
            self.durable.truncated(inode, 0)
        return self.open_handle(inode)

    async def read(self, fh, off, size):
        self.alive()
        return bytes(self.node(self.handles[fh]).data[off : off + size])

    async def write(self, fh, off, buf):
        ino = self.handles[fh]
        if ino == self.control_ino:
            return self.control(bytes(buf))
        self.alive(True, "write", ino)
        node = self.node(ino)
        if off > len(node.data):
            node.data.extend(bytes(off - len(node.data)))
        node.data[off : off + len(buf)] = buf
        node.touch()
        return len(buf)

    def control(self, command):
        word = command.strip()
        if word == b"syncfs":
            self.alive(True, "syncfs")
            self.durable.sync_all(self.nodes)
        elif word == b"cut":
            self.cut("cut by request")
        else:
            raise pyfuse3.FUSEError(errno.EINVAL)
        return len(command)

    async def setattr(self, inode, attr, fields, fh, ctx):
        self.alive(True, "setattr", inode)
        node = self.node(inode)
        now = time.time_ns()
        if fields.update_size:
            if attr.st_size < len(node.data):
                del node.data[attr.st_size :]
            else:
                node.data.extend(bytes(attr.st_size - len(node.data)))
            node.mtime = now
            self.durable.truncated(inode, attr.st_size)
        if fields.update_mode:
            node.mode = stat.S_IFMT(node.mode) | stat.S_IMODE(attr.st_mode)
        if fields.update_uid:
            node.uid = attr.st_uid
        if fields.update_gid:
            node.gid = attr.st_gid
        if fields.update_atime:
            node.atime = attr.st_atime_ns
        if fields.update_mtime:
            node.mtime = attr.st_mtime_ns
        node.ctime = now
        self.durable.changed_attributes(inode)
        return self.attributes(node)

    async def fsync(self, fh, datasync):
        ino = self.handles[fh]
        if ino == self.control_ino:
            return
        self.alive(True, "fsync", ino)
        self.durable.sync_file(self.nodes, ino)

    async def flush(self, fh):
        pass

    async def release(self, fh):
        self.handles.pop(fh, None)

    async def forget(self, inode_list):
        pass

    # --- extended attributes ----------------------------------------------------------------

    async def getxattr(self, inode, name, ctx):
        self.alive()
        try:
            return self.node(inode).xattrs[name]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ENODATA)

    async def listxattr(self, inode, ctx):
        self.alive()
        return list(self.node(inode).xattrs)

    async def setxattr(self, inode, name, value, ctx):
        self.alive(True, "setxattr", inode)
        self.node(inode).xattrs[name] = bytes(value)
        self.durable.changed_attributes(inode)

    async def removexattr(self, inode, name, ctx):
        self.alive(True, "removexattr", inode)
        if self.node(inode).xattrs.pop(name, None) is None:
            raise pyfuse3.FUSEError(errno.ENODATA)
        self.durable.changed_attributes(inode)


def load(path):
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            saved = pickle.load(f)
        return saved["nodes"], saved["next_ino"]
    root = Node(ROOT, "d", stat.S_IFDIR | 0o755, 0, 0)
    root.nlink = 2
    return {ROOT: root}, ROOT + 1


def save(path, fs):
    nodes = fs.saved_state()
    nodes.pop(fs.control_ino, None)
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        pickle.dump({"nodes": nodes, "next_ino": fs.next_ino}, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


async def serve(fs, ready):
    async with trio.open_nursery() as nursery:
        nursery.start_soon(pyfuse3.main)
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGUSR1) as signals:
            if ready:
                with open(ready, "w") as f:
                    f.write(f"{os.getpid()}\n")
            async for number in signals:
                if number == signal.SIGUSR1:
                    fs.cut("cut by SIGUSR1")
                    continue
                nursery.cancel_scope.cancel()
                return


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mountpoint")
    parser.add_argument("--state", required=True, help="where the surviving state is kept between mounts")
    parser.add_argument("--model", choices=["ext4", "strict"], default="ext4")
    parser.add_argument("--cut-after", type=int, default=0, help="cut the power before this mutating request")
    parser.add_argument("--cut-match", help="count for --cut-after only the requests ('<what> <path>') matching "
                        "this regular expression")
    parser.add_argument("--marker", help="written when the power is cut")
    parser.add_argument("--ready", help="written once mounted")
    parser.add_argument("--trace", help="append every mutating request to this file")
    args = parser.parse_args()
    # A parent may have blocked or ignored these (a test runner does): this file system and the
    # programs it starts must see them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGUSR1})
    for number in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(number, signal.SIG_DFL)

    nodes, next_ino = load(args.state)
    trace = open(args.trace, "a", buffering=1) if args.trace else None
    if trace:
        trace.write(f"--- mount, cut after {args.cut_after or 'never'}\n")
    fs = PowerCutFS(nodes, next_ino, args.model, args.cut_after, args.marker, trace, args.cut_match)
    options = set(pyfuse3.default_options)
    options.update({"fsname=powercutfs", "allow_other"})
    pyfuse3.init(fs, args.mountpoint, options)
    try:
        trio.run(serve, fs, args.ready)
    finally:
        pyfuse3.close(unmount=True)
        save(args.state, fs)
        print(f"powercutfs: {fs.mutations} mutating requests, {fs.unnamed_linked} unnamed files linked, "
              f"{fs.matching} matching, "
              f"{'cut' if fs.dead else 'clean'}", file=sys.stderr)


if __name__ == "__main__":
    main()
