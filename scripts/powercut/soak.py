#!/usr/bin/env python3
"""Power cuts during backups: the server's storage root on powercutfs, cut at random requests.

Each round changes a source tree, mounts powercutfs armed to cut the power before a random
mutating request, starts the server on it and backs up (a round in four then prunes, still armed).
When the power goes (or after the round, if the cut point lay beyond it) server and client are
killed, the file system keeps only what was synced and is mounted again. Then, with the server
restarted on what survived (its catalog and databases must open):

- every file the server had acknowledged (the client's FILESYNC_TEST_ACK_LOG) is there with the
  acknowledged content or a later one, by SHA-256;
- no stored file is a mix of versions: each one's SHA-256 is one the source had for that path;
- a backup run to completion stores the source exactly, and `check --read-data` finds every kept
  snapshot whole.

Two clients take turns: one against a server with history (snapshots, packs, prune), one against
`--no-history` (in-place patches of a large file). Every round rewrites files the last backup
stored (so the history client's server packs their old versions) and changes bytes of the large
file (so the other's patches it in place). Half the rounds cut before a random request of any
kind; the other half aim at a phase of few requests (AIMED: pack writes in the history client's
rounds, the in-place patch in the other's), cutting before a random request of that phase, so
that 200 cuts reach each of them tens of times. Prints one line per cut and a summary of the
phases hit; exits 1 if any violation was found. Needs root, /dev/fuse, fusermount3, gcc and pyfuse3.
"""

import argparse
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Violation(Exception):
    pass


def wait_for(predicate, timeout, what):
    """Polls `predicate` (a file appearing, a process ending) until it holds; bounded."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Source:
    """A client's source tree and every version each path ever had."""

    def __init__(self, path, rng, big_size):
        self.path = path
        self.rng = rng
        self.big_size = big_size
        self.versions = {}  # path -> [sha256, ...]
        self.acked = {}  # path -> index of the newest acknowledged version
        self.serial = 0
        os.makedirs(path)

    def write(self, relative, data):
        full = os.path.join(self.path, relative)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        self.versions.setdefault(relative, []).append(sha(data))

    def files(self):
        found = []
        for folder, _, names in os.walk(self.path):
            for name in names:
                found.append(os.path.relpath(os.path.join(folder, name), self.path))
        return sorted(found)

    def small(self):
        self.serial += 1
        return self.rng.randbytes(self.rng.randint(0, 24_000)) + f"{self.serial}".encode()

    def change(self):
        """New files, rewritten files, a changed byte in the large file, sometimes deletions."""
        files = [f for f in self.files() if f != "big.bin"]
        for _ in range(self.rng.randint(5, 25)):
            self.write(f"d{self.rng.randint(0, 5)}/f{self.rng.randint(0, 10_000)}.dat", self.small())
        # At least one stored file is rewritten: with history its old version goes into a pack.
        for name in self.rng.sample(files, min(len(files), self.rng.randint(1, 8))):
            self.write(name, self.small())
        big = os.path.join(self.path, "big.bin")
        if not os.path.exists(big):
            self.write("big.bin", self.rng.randbytes(self.big_size))
        else:
            with open(big, "rb") as f:
                data = bytearray(f.read())
            for _ in range(self.rng.randint(1, 3)):
                data[self.rng.randrange(len(data))] ^= 0xFF
            self.write("big.bin", bytes(data))
        deleted = []
        if files and self.rng.random() < 0.3:
            for name in self.rng.sample(files, min(len(files), 3)):
                os.unlink(os.path.join(self.path, name))
                deleted.append(name)
        return deleted

    def current(self, relative):
        with open(os.path.join(self.path, relative), "rb") as f:
            return sha(f.read())


class Harness:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="filesync-powercut-")
        self.mount = os.path.join(self.work, "mnt")
        self.state = os.path.join(self.work, "fs.state")
        self.marker = os.path.join(self.work, "cut")
        self.config = os.path.join(self.work, "config")
        os.makedirs(self.mount)
        self.shim = os.path.join(self.work, "powercut_shim.so")
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", self.shim,
                        os.path.join(HERE, "powercut_shim.c"), "-ldl", "-lpthread"], check=True)
        self.fs = None
        self.mutations = []
        self.matching = 0  # requests matching the last mount's --cut-match
        self.phase_counts = {}  # aimed phase -> its request counts seen (or lower bounds)
        self.aimed_totals = {}  # aimed phase -> rounds aimed at it, and cuts that fell in it
        self.unnamed_linked = 0

    # --- the file system --------------------------------------------------------------------

    def mount_fs(self, cut_after=0, cut_match=None):
        ready = os.path.join(self.work, "ready")
        for path in (ready, self.marker):
            if os.path.exists(path):
                os.unlink(path)
        command = [sys.executable, os.path.join(HERE, "powercutfs.py"), self.mount, "--state", self.state,
                   "--marker", self.marker, "--ready", ready, "--model", self.args.model]
        if cut_after:
            command += ["--cut-after", str(cut_after)]
        if cut_match:
            command += ["--cut-match", cut_match]
        if self.args.trace:
            command += ["--trace", os.path.join(self.work, "requests.log")]
        self.fs_log = open(os.path.join(self.work, "fs.log"), "a")
        self.fs = subprocess.Popen(command, stderr=self.fs_log)
        wait_for(lambda: os.path.exists(ready) or self.fs.poll() is not None, 20, "powercutfs to mount")
        if self.fs.poll() is not None:
            raise RuntimeError("powercutfs did not mount (see fs.log)")

    def unmount_fs(self):
        self.fs.send_signal(signal.SIGTERM)
        self.fs.wait(timeout=60)
        self.fs_log.close()
        with open(os.path.join(self.work, "fs.log")) as f:
            lines = [line for line in f if line.startswith("powercutfs:")]
        match = re.search(r"(\d+) mutating requests, (\d+) unnamed files linked, (\d+) matching", lines[-1]) \
            if lines else None
        if match:
            self.unnamed_linked += int(match.group(2))
            self.matching = int(match.group(3))
        return int(match.group(1)) if match else 0

    def cut_now(self):
        if not os.path.exists(self.marker):
            self.fs.send_signal(signal.SIGUSR1)
            wait_for(lambda: os.path.exists(self.marker), 10, "the cut marker")

    # --- the programs -----------------------------------------------------------------------

    def environment(self):
        env = dict(os.environ)
        env["XDG_CONFIG_HOME"] = self.config
        env["XDG_CACHE_HOME"] = os.path.join(self.work, "cache")
        env["LD_PRELOAD"] = self.shim
        env["FILESYNC_POWERCUT_CONTROL"] = os.path.join(self.mount, ".powercut")
        if self.args.sabotage_syncfs:
            env["FILESYNC_POWERCUT_SABOTAGE_SYNCFS"] = "1"
        return env

    def start_server(self, root, history):
        command = [os.path.join(self.args.bin_dir, "filesync-server"), "--root", root, "--port", "0",
                   "--interval", "15m", "--name", "powercut", "--listen", "127.0.0.1", "--no-discovery",
                   "--config", os.path.join(self.config, "filesync", "server.json")]
        if not history:
            command.append("--no-history")
        log = open(os.path.join(self.work, "server.log"), "a")
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=self.environment())
        deadline = time.monotonic() + 30
        buffered = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([server.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(server.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffered += chunk
                match = re.search(rb"listening on [0-9.]+:(\d+)", buffered)
                if match:
                    return server, int(match.group(1))
            elif server.poll() is not None:
                break
        server.kill()
        server.wait()
        return None, 0

    def client(self, source, client_id, port, ack_log, extra=()):
        env = self.environment()
        env.pop("LD_PRELOAD")
        env["FILESYNC_TEST_ACK_LOG"] = ack_log
        command = [os.path.join(self.args.bin_dir, "filesync-client"), "--source", source, "--id", client_id,
                   "--server", f"127.0.0.1:{port}", "--retries", "0", "--json", *extra]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def server_command(self, *arguments):
        command = [os.path.join(self.args.bin_dir, "filesync-server"), *arguments]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.environment())


def stored_hash(path):
    try:
        with open(path, "rb") as f:
            return sha(f.read())
    except FileNotFoundError:
        return None


def verify_acknowledged(source, folder):
    """Acknowledged files hold the acknowledged content or a later one; none is a mix."""
    problems = []
    for relative, versions in source.versions.items():
        stored = stored_hash(os.path.join(folder, relative))
        acked = source.acked.get(relative)
        if stored is None:
            if acked is not None and os.path.exists(os.path.join(source.path, relative)):
                problems.append(f"{relative}: acknowledged (version {acked}) but missing")
            continue
        if stored not in versions:
            problems.append(f"{relative}: stored content is no version the source ever had")
        elif acked is not None and stored not in versions[acked:]:
            problems.append(f"{relative}: stored version {versions.index(stored)} is older than acknowledged {acked}")
    return problems


def read_acks(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


# The requests of the phases that few requests make, by their "<what> <path>" (powercutfs's
# --cut-match): a pack being written, and an in-place patch (its journal, then the stored large
# file itself, which only a patch writes: other transfers write a partial and rename it).
AIMED = {
    "pack write": r"/packs(/|$)",
    "in-place patch": r"patch\.journal|^(write|fsync|truncate|setattr) /store-plain/[^/]+/big\.bin$",
}


def phase_of(reason):
    """Where the cut fell, from the request's path."""
    request = reason.split(": ", 1)[-1]
    table = [("catalog.sqlite", "chunk catalog"), (".sqlite", "database")]
    table += [(re.compile(pattern), name) for name, pattern in AIMED.items()]
    table += [("/snapshots", "snapshot write"), ("/trees", "tree write"),
              ("/history", "history"), ("partial", "partial file"), ("syncfs", "commit (syncfs)"),
              ("fsync", "commit (fsync)"), ("rename", "commit (rename)"), ("unnamed", "new file"),
              ("write", "file data"), ("/keys", "key binding")]
    for needle, name in table:
        if (needle.search(request) if isinstance(needle, re.Pattern) else needle in request):
            return name
    return "other"


def choose_cut(h, number, rng, history):
    """Where this round cuts: (the phase aimed at or None, its --cut-match, the request to cut before).

    Rounds 0 and 1 of every four cut before any request, at a point drawn from the last rounds'
    request counts; round 2 (the history client's) aims at a pack write, round 3 (the other's) at
    an in-place patch, at a point drawn from the counts of that phase seen in the last rounds
    (a cut may also land after the round: the round then completes, and is checked as well).
    """
    if number % 4 < 2:
        estimate = max(50, int(sum(h.mutations[-6:]) / max(1, len(h.mutations[-6:]))) if h.mutations else 400)
        return None, None, rng.randint(1, int(estimate * 1.05) + 1)
    phase = "pack write" if history else "in-place patch"
    seen = h.phase_counts.setdefault(phase, [])
    estimate = max(4, max(seen[-6:]) if seen else 12)
    return phase, AIMED[phase], rng.randint(1, int(estimate * 1.05) + 1)


def run_round(h, number, rng, clients, totals):
    name, source, root, history = clients[number % 2]
    deleting = rng.random() < 0.5
    pruning = history and number % 4 == 0
    for deleted in source.change():
        source.acked.pop(deleted, None)  # a name deleted here and made again later is a new file
    acks = os.path.join(h.work, f"acks-{number}")
    aimed, cut_match, cut_after = choose_cut(h, number, rng, history)
    h.mount_fs(cut_after, cut_match)
    processes = []
    client_process = None
    server, port = h.start_server(root, history)
    if server:
        processes.append(server)
        client = h.client(source.path, name, port, acks, ["--delete"] if deleting else [])
        processes.append(client)
        client_process = client
        wait_for(lambda: os.path.exists(h.marker) or client.poll() is not None, 120, "the client or the cut")
        if pruning and not os.path.exists(h.marker):
            prune = h.server_command("prune", "--root", root, "--keep-last", "2", "--keep-hourly", "0",
                                     "--keep-daily", "0", "--keep-weekly", "0", "--keep-monthly", "0",
                                     "--keep-yearly", "0")
            processes.append(prune)
            wait_for(lambda: os.path.exists(h.marker) or prune.poll() is not None, 120, "prune or the cut")
    cut_during = os.path.exists(h.marker)
    h.cut_now()
    # The server goes first; the client then reads what was already on its way to it (its
    # acknowledgements are what the check holds the server to) and ends on the closed connection.
    for process in processes:
        if process is client_process:
            continue
        if process.poll() is None:
            process.kill()
        process.wait()
    if client_process is not None:
        try:
            client_process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            client_process.kill()
            client_process.wait()
    with open(h.marker) as f:
        reason = f.read().strip()
    h.unmount_fs()
    if aimed:
        # An uncut round tells how many requests the phase made; a cut one only that it made at
        # least cut_after, so the estimate grows past it (else it would never learn the later ones).
        h.phase_counts[aimed].append(h.matching if not cut_during else cut_after + cut_after // 2 + 1)
    for path in read_acks(acks):
        if path in source.versions:
            source.acked[path] = len(source.versions[path]) - 1
    phase = phase_of(reason) if cut_during else "after the round"
    totals[phase] = totals.get(phase, 0) + 1
    if aimed:
        aimed_totals = h.aimed_totals.setdefault(aimed, {"rounds": 0, "hit": 0})
        aimed_totals["rounds"] += 1
        aimed_totals["hit"] += phase == aimed

    # What survived.
    h.mount_fs()
    problems = []
    server, port = h.start_server(root, history)
    if not server:
        problems.append("the server does not start again after the cut")
    else:
        problems += verify_acknowledged(source, os.path.join(root, name))
        client = h.client(source.path, name, port, os.path.join(h.work, "acks-verify"),
                          ["--delete"] if deleting else [])
        out, err = client.communicate(timeout=300)
        if client.returncode != 0:
            problems.append(f"the next backup exits {client.returncode}: {err.decode()[-400:]}")
        else:
            for relative in source.files():
                if stored_hash(os.path.join(root, name, relative)) != source.current(relative):
                    problems.append(f"{relative}: not equal to the source after a complete backup")
                source.acked[relative] = len(source.versions[relative]) - 1
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if history:
            check = h.server_command("check", "--root", root, "--id", name, "--read-data")
            out, err = check.communicate(timeout=300)
            if check.returncode != 0:
                problems.append(f"check --read-data exits {check.returncode}: {(out + err).decode()[-400:]}")
    h.mutations.append(h.unmount_fs())
    acked_count = len(read_acks(acks))
    status = "ok" if not problems else "VIOLATION"
    print(f"cut {number + 1:3d} [{name}{' prune' if pruning else ''}{f', aimed at {aimed}' if aimed else ''}] "
          f"{phase}: {reason}; "
          f"{acked_count} acknowledged before the cut; {status}", flush=True)
    for problem in problems:
        print(f"    {problem}", flush=True)
    return problems


def main():
    parser = argparse.ArgumentParser(description="power cuts during backups (see the module's text)")
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--cuts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--model", choices=["ext4", "strict"], default="ext4")
    parser.add_argument("--big-size", type=int, default=6 << 20)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--trace", action="store_true", help="log every mutating request (work/requests.log)")
    parser.add_argument("--history-only", action="store_true", help="only the client of the server with history")
    parser.add_argument("--stop-on-violation", action="store_true", help="stop at the first violation")
    parser.add_argument("--sabotage-syncfs", action="store_true",
                        help="make the server's syncfs a no-op, to see the harness catch the loss")
    parser.add_argument("--probe", action="store_true",
                        help="only check that powercutfs can be mounted here (exit 3 with the reason if not)")
    args = parser.parse_args()
    # A parent may have blocked or ignored these (a test runner does): this file system and the
    # programs it starts must see them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGUSR1})
    for number in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(number, signal.SIG_DFL)

    h = Harness(args)
    if args.probe:
        try:
            h.mount_fs()
            h.unmount_fs()
            return 0
        except Exception as error:
            with open(os.path.join(h.work, "fs.log")) as f:
                log = f.read()
            print(f"cannot mount powercutfs here: {error}\n{log}", file=sys.stderr)
            # 3: this machine may not mount FUSE file systems (a container); anything else is a
            # fault of the harness, which must not pass for a skip.
            refused = re.search(r"not permitted|Permission denied|fuse: device not found|No such file", log)
            return 3 if refused else 1
        finally:
            subprocess.run(["fusermount3", "-u", "-z", h.mount], stderr=subprocess.DEVNULL)
            shutil.rmtree(h.work, ignore_errors=True)
    rng = random.Random(args.seed)
    print(f"power-cut soak: seed {args.seed}, {args.cuts} cuts, model {args.model}, work {h.work}", flush=True)
    clients = [
        ("alpha", Source(os.path.join(h.work, "src-alpha"), rng, args.big_size),
         os.path.join(h.mount, "store-history"), True),
        ("beta", Source(os.path.join(h.work, "src-beta"), rng, args.big_size),
         os.path.join(h.mount, "store-plain"), False),
    ]
    h.mount_fs()
    for _, _, root, _ in clients:
        os.makedirs(root)
    h.unmount_fs()
    totals, violations = {}, 0
    started = time.monotonic()
    try:
        if args.history_only:
            clients = [clients[0], clients[0]]
        for number in range(args.cuts):
            violations += len(run_round(h, number, rng, clients, totals))
            if violations and args.stop_on_violation:
                break
    finally:
        if h.fs and h.fs.poll() is None:
            h.fs.send_signal(signal.SIGTERM)
            h.fs.wait(timeout=60)
        # A file system process that died leaves its mount behind ("transport endpoint is not
        # connected"): detach it.
        subprocess.run(["fusermount3", "-u", "-z", h.mount], stderr=subprocess.DEVNULL)
        if not args.keep:
            shutil.rmtree(h.work, ignore_errors=True)
    summary = {"cuts": args.cuts, "violations": violations, "seed": args.seed, "model": args.model,
               "phases": totals, "aimed": h.aimed_totals, "unnamedFilesLinked": h.unnamed_linked,
               "seconds": round(time.monotonic() - started, 1)}
    print("summary " + json.dumps(summary), flush=True)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
