#!/usr/bin/env python3
"""Benchmark filesync against rsync (daemon mode): disk, tmpfs, a shaped LAN link, a small server.

Generates reproducible data (seed 42) once, then runs each workload --runs
times per tool, alternating tools, each "new" run into a fresh, never-used
destination folder. Every run is verified by SHA-256 of the whole tree
(untimed). Prints Markdown tables of median client wall-clock times, CPU-seconds,
bytes on the wire and peak RSS, and writes them to WORK/bench.md (and --out FILE).

Row sets (--sets, or row numbers with --rows):
- disk (rows 1-10), on 127.0.0.1. Rows 4-7 ("changed") measure an update: each
  run first syncs the original big file untimed into a fresh destination
  (verified), then times the sync of a prepared copy of the source with the
  change applied. Rows 9-10 ("restore") back up the data of rows 1 and 2 once
  with filesync (untimed), wait for its snapshot, then time `filesync-client
  restore` into a fresh empty folder against `rsync -a` and `rsync -a --fsync`
  pulling the same data from the daemon (row 9 also `rsync -a --fsync
  --checksum-choice=sha1`, for reference). Every row of new data also runs
  `rsync --fsync` (filesync syncs every file it writes; plain rsync leaves the
  writeback to the kernel), and its time target is against that.
- tmpfs (rows 11-12): source and both destinations on tmpfs mounts of a private
  mount namespace (the script runs in `unshare -m`), so neither tool waits on a
  disk; targets against plain rsync, for time and CPU-seconds. These rows and
  row 17 also run `rsync --checksum-choice=sha1` for reference (no target):
  rsync's default checksum, xxh128, is not a cryptographic hash, while filesync
  names and checks all content by SHA-256 on both sides.
- lan (rows 13-16): the server (and rsync's daemon) in a second private network
  namespace, joined to the script's by a veth pair shaped to 1 Gbit/s with
  `tc qdisc tbf` on both ends; the link's raw TCP rate is measured in the same
  run with a plain socket sender and receiver.
- smallserver (rows 17-18): the server (and rsync's daemon, in its own run)
  limited to a quarter of one core by a cgroup CPU quota (v1 `cpu` controller:
  cfs_quota_us 25000 per cfs_period_us 100000; v2: cpu.max).
- exclude (row 19), on disk like the disk set: nothing changed in a small tree
  (1,000 × 4 KiB) beside a `node_modules` of --node-modules-count files, left
  out by `--exclude node_modules`, against filesync on the same tree without
  the folder (each first backed up untimed into a fresh destination): an
  excluded folder is not entered, so its files cost nothing (issue 21). The
  client's --json `scanned` and `excluded` counts are checked (one excluded
  entry, the tree's files scanned); `rsync --exclude node_modules` runs for
  reference. Its runs take about 45 ms and spread by about as much as the
  difference looked for, so each of --runs times EXCLUDE_REPEATS (10)
  nothing-changed runs per tool, the tools taking turns, and the target
  compares the medians of all of them (wall time, client and server).

As root, the script re-executes itself inside a private network and mount
namespace (`unshare -n -m`) with only loopback up, so no packet can leave the
machine and no mount outlives the run. The LAN set's second namespace belongs to
a `sleep` process started with `unshare -n` inside the first; both disappear
with their processes. Without root only the disk set can run.

CPU-seconds and peak RSS come from os.wait4() (user + system time, client +
server). A process exec'd straight from Python would report Python's own RSS
high-water mark (vfork shares our address space), so every measured process is
forked by a tiny `sh` and adopted by this script as child subreaper. On Linux
the wait4() rusage also covers the descendants a process waited for: rsync's
daemon forks a child per connection, and that child's CPU-seconds and RSS are
only in the daemon's figures once the daemon has reaped it, so the script waits
for the daemon to have no children before stopping it. rsync's client forks
too when it receives (a pull); it reaps its child before it exits. A server's
CPU-seconds count from the moment it listens (what its start took, read from
/proc/PID/stat then, is subtracted) to its exit: filesync's server is stopped
once it has used no CPU for 0.3 s after the client's exit, so the work a session
leaves it (recording the snapshot) counts, and is shown apart too.
"""
import argparse, concurrent.futures, contextlib, ctypes, dataclasses, hashlib, json, os, queue
import random, re, select, shlex, shutil, signal, socket, statistics, subprocess, sys, tempfile
import threading, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = 42
CHUNK = 8 << 20
FILE_SIZE = 4096
APPEND_PER_GIB = 10_000_000  # row 7 appends this much per GiB of --big-size
TEXT_FILES = 300
SETS = {"disk": range(1, 11), "tmpfs": range(11, 13), "lan": range(13, 17),
        "smallserver": range(17, 19), "exclude": range(19, 20)}
ROWS = range(1, 20)
ROOT_SETS = ("tmpfs", "lan", "smallserver")  # need root: mounts, namespaces, cgroups
TOOLS = ("filesync", "rsync")
READY_RE = re.compile(r"listening on ([0-9.]+):([0-9]+)")
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
LOOPBACK = "127.0.0.1"
# The LAN set: the script's end of the veth pair (client side) and the server's end.
LAN_CLIENT, LAN_SERVER, LAN_PREFIX = "10.77.0.1", "10.77.0.2", 24
LAN_RATE = "1gbit"
LAN_TBF = ["rate", LAN_RATE, "burst", "256kb", "latency", "20ms"]
CPU_PERIOD_US, CPU_QUOTA_US = 100_000, 25_000  # the small server: a quarter of one core
RSS_LIMIT_MB = 100
EXCLUDED_DIR = "node_modules"  # row 19: the folder left out by one pattern
EXCLUDE_TREE_FILES = 1000  # row 19: files of the small tree beside it
ALONE = "filesync, tree alone"  # row 19: filesync on the small tree without the folder
EXCLUDE_REPEATS = 10  # row 19: timed nothing-changed runs per --runs, per tool, taking turns
NO_FSYNC = "n/a (this rsync has no --fsync; it needs 3.2.4 or later)"
rsync_fsync = True  # main() clears it for an rsync without --fsync: those variants are skipped


class BenchError(Exception):
    """Any failure that must abort the benchmark."""


@dataclasses.dataclass
class Result:
    seconds: float
    wire_bytes: int | None  # None: not known (filesync restore reports no bytes on wire)
    client_rss_kib: int
    server_rss_kib: int
    client_cpu: float  # user + system seconds, incl. reaped children
    server_cpu: float
    server_cpu_after: float | None = None  # filesync: of server_cpu, what came after the client's exit
    scanned: int | None = None  # filesync --json: regular files found in the source
    excluded: int | None = None  # filesync --json: entries left out (an excluded folder counts 1)

    @property
    def cpu(self) -> float:
        return self.client_cpu + self.server_cpu


@dataclasses.dataclass
class Target:
    metric: str  # "time" or "cpu": filesync / vs ≤ limit; "link": rate / link TCP rate ≥ limit
    vs: str | None  # the rsync variant compared with (None for "link")
    limit: float


@dataclasses.dataclass
class Env:
    """Where a row set runs: its destinations, how servers start, the address they listen on."""
    name: str
    dest: dict  # tool ("filesync" or "rsync") -> folder for fresh destinations
    prefix: list = dataclasses.field(default_factory=list)  # prepended to server/daemon commands
    addr: str = LOOPBACK
    durable: bool = True  # destinations on a disk (False: tmpfs)
    notes: list = dataclasses.field(default_factory=list)  # lines for the report
    link_rates: list = dataclasses.field(default_factory=list)  # lan: raw TCP bytes/s of the link


@dataclasses.dataclass
class Workload:
    row: int
    set: str
    key: str
    label: str
    src: Path
    variants: dict  # rsync variant name -> extra rsync flags; the first is the wire basis (row 19
    # also has ALONE, filesync on the source without the excluded folder)
    targets: list = dataclasses.field(default_factory=list)
    results: dict = dataclasses.field(default_factory=dict)  # runner -> [Result]
    base: Path | None = None  # synced untimed into the fresh destination before each run
    origin: Path | None = None  # tmpfs rows: the disk source copied to src
    wire_target: float | None = None  # max filesync bytes on wire / wire_basis
    wire_basis: int | None = None  # None: the first rsync variant's median bytes on wire
    wire_what: str = "rsync"
    fs_flags: tuple[str, ...] = ()
    unchanged: bool = False  # the run must send nothing
    restore: bool = False  # rows 9-10: filesync restore against an rsync pull
    data_bytes: int = 0  # bytes of file content the row moves (CPU-seconds per GiB)
    floors: dict = dataclasses.field(default_factory=dict)  # reference command -> seconds per run
    # New-data rows on disk: seconds of a `sync` right after each plain rsync run, the writeback
    # rsync leaves to the kernel (filesync's time includes making its data durable).
    durable: bool = False
    rsync_sync: list = dataclasses.field(default_factory=list)
    alone: Path | None = None  # row 19: src without its excluded folder (what both tools must store)

    def runners(self, tools: list[str]) -> list[str]:
        """The runners of this row: filesync (and ALONE) and the rsync variants, as --only allows."""
        rsyncs = [v for v in self.variants if v.startswith("rsync")
                  and (rsync_fsync or "--fsync" not in self.variants[v])]
        fs = ["filesync", *(v for v in self.variants if v.startswith("filesync"))]
        return (fs if "filesync" in tools else []) + (rsyncs if "rsync" in tools else [])


def fsync_too(*names: str, flags: dict | None = None) -> dict:
    """Each rsync variant, then the same with --fsync: {"rsync": (), "rsync --fsync": ("--fsync",)}."""
    flags = flags or {}
    variants = {n: flags.get(n, ()) for n in names}
    variants.update({f"{n} --fsync": (*flags.get(n, ()), "--fsync") for n in names})
    return variants


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin-dir", type=Path, help="dir with filesync-server/-client "
                   "(default: `swift build -c release --static-swift-stdlib --show-bin-path`, as `make release` builds)")
    p.add_argument("--work", type=Path, help="work dir (default: fresh dir under /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the default work dir")
    p.add_argument("--runs", type=int, default=3, help="runs per workload and tool")
    p.add_argument("--big-size", type=int, default=1 << 30, help="bytes of the big file")
    p.add_argument("--many-count", type=int, default=20000, help="number of 4 KiB files")
    p.add_argument("--text-size", type=int, default=200_000_000,
                   help="bytes of source-like text (rows 8 and 15)")
    p.add_argument("--node-modules-count", type=int, default=200_000,
                   help=f"files in the excluded {EXCLUDED_DIR} folder of row 19 (64 B each)")
    p.add_argument("--sets", type=parse_sets, default=None,
                   help=f"comma list of row sets to run: {','.join(SETS)} (default: all; "
                        "with --rows, only those rows of these sets)")
    p.add_argument("--rows", type=parse_rows, default=None,
                   help=f"comma list of row numbers {ROWS[0]}-{ROWS[-1]} to run (default: all): "
                        + ", ".join(f"{k} {v[0]}" + (f"-{v[-1]}" if len(v) > 1 else "")
                                    for k, v in SETS.items()))
    p.add_argument("--scale", type=lambda t: [int(n) for n in t.split(",")], default=[],
                   help="also time nothing-changed runs over these file counts, e.g. 100000,1000000 "
                        "(tiny files, disk; each count is first synced untimed)")
    p.add_argument("--only", choices=TOOLS, help="benchmark only one tool (rsync: all its variants)")
    p.add_argument("--out", type=Path, help="also write the report to this file")
    args = p.parse_args()
    if (args.runs < 1 or args.big_size < 1 or args.many_count < 1 or args.text_size < 1
            or args.node_modules_count < 1):
        p.error("--runs, --big-size, --many-count, --text-size and --node-modules-count must be positive")
    rows = set(ROWS) if args.rows is None else args.rows
    if args.sets is not None:
        rows &= {r for s in args.sets for r in SETS[s]}
    if not rows and not args.scale:
        p.error("--sets and --rows select no row")
    args.rows = rows
    return args


def parse_rows(text: str) -> set[int]:
    try:
        rows = {int(part) for part in text.split(",")}
    except ValueError:
        rows = set()
    if not rows or not rows <= set(ROWS):
        raise argparse.ArgumentTypeError(f"expected row numbers {ROWS[0]}-{ROWS[-1]}, "
                                         f"comma-separated: {text!r}")
    return rows


def parse_sets(text: str) -> set[str]:
    sets = set(text.split(","))
    if not sets <= SETS.keys():
        raise argparse.ArgumentTypeError(f"expected sets among {','.join(SETS)}: {text!r}")
    return sets


def set_of(row: int) -> str:
    return next(name for name, rows in SETS.items() if row in rows)


def ensure_private_netns() -> None:
    """As root, re-exec inside `unshare -n -m` with only loopback up (mounts stay private)."""
    if os.environ.get("FILESYNC_BENCH_NETNS"):
        print("note: running in a private network and mount namespace (loopback only)")
    elif os.geteuid() == 0:
        inner = shlex.join([sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
        script = f"ip link set lo up && FILESYNC_BENCH_NETNS={namespace_ids()} exec {inner}"
        sys.stdout.flush()
        os.execvp("unshare", ["unshare", "-n", "-m", "--propagation", "private", "sh", "-c", script])
    else:
        print("note: not root, so no private network namespace; all traffic uses 127.0.0.1")


def human_size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def decimal_size(n: int) -> str:
    return f"{n // 10**6} MB" if n >= 10**6 and n % 10**6 == 0 else f"{n} B"


def generate_big(dest: Path, size: int) -> None:
    rng = random.Random(SEED)
    dest.mkdir(parents=True)
    with open(dest / "big.bin", "wb") as f:
        for off in range(0, size, CHUNK):
            f.write(rng.randbytes(min(CHUNK, size - off)))


def generate_many(dest: Path, count: int, size: int = FILE_SIZE) -> None:
    """Files i -> dNN/sN/fNNN.bin: 100 files per subdir, 10 subdirs per top dir."""
    rng = random.Random(SEED)
    for i in range(count):
        d = dest / f"d{i // 1000:02d}" / f"s{i // 100 % 10}"
        if i % 100 == 0:
            d.mkdir(parents=True)
        (d / f"f{i % 100:03d}.bin").write_bytes(rng.randbytes(size))


def generate_excluded(src: Path, alone: Path, count: int) -> None:
    """Row 19: the same small tree in src and alone, and in src also EXCLUDED_DIR of `count`
    64-byte files."""
    generate_many(alone, EXCLUDE_TREE_FILES)
    generate_many(src, EXCLUDE_TREE_FILES)
    generate_many(src / EXCLUDED_DIR, count, 64)


def make_flipped(base: Path, dest: Path) -> None:
    """big.bin with the byte at size/2 inverted; same size, mtime 60 s after the original's."""
    dest.mkdir()
    shutil.copy2(base / "big.bin", dest / "big.bin")
    with open(dest / "big.bin", "r+b") as f:
        mid = f.seek(0, os.SEEK_END) // 2
        f.seek(mid)
        byte = f.read(1)[0]
        f.seek(mid)
        f.write(bytes([byte ^ 0xFF]))
    st = os.stat(base / "big.bin")
    os.utime(dest / "big.bin", ns=(st.st_atime_ns, st.st_mtime_ns + 60 * 10**9))


def make_inserted(base: Path, dest: Path) -> None:
    """big.bin with one byte inserted before the first (size + 1)."""
    dest.mkdir()
    with open(base / "big.bin", "rb") as src, open(dest / "big.bin", "wb") as f:
        f.write(b"\x01")
        shutil.copyfileobj(src, f, CHUNK)


def make_renamed(base: Path, dest: Path) -> None:
    """big.bin as renamed.bin: a hard link, so content, inode and mtime are kept as by mv."""
    dest.mkdir()
    os.link(base / "big.bin", dest / "renamed.bin")


def make_appended(base: Path, dest: Path, size: int) -> None:
    """big.bin with `size` random bytes (a second stream of the seed) appended."""
    dest.mkdir()
    shutil.copy2(base / "big.bin", dest / "big.bin")
    rng = random.Random(SEED + 1)
    with open(dest / "big.bin", "ab") as f:
        for off in range(0, size, CHUNK):
            f.write(rng.randbytes(min(CHUNK, size - off)))


TEXT_WORDS = ("buffer count index value result error state config node item list map key data "
              "size offset length path name file client server session frame chunk queue "
              "manifest entry record digest stream reader writer handler options context "
              "request response header payload timeout retry limit cache table store").split()
TEXT_TYPES = ("Int", "Int64", "UInt8", "String", "Bool", "Double", "Data", "Path", "[UInt8]",
              "[String: Int]", "Result<Int, Error>", "FileHandle?")


def generate_text(dest: Path, size: int) -> None:
    """`size` bytes of Swift-like source in TEXT_FILES files, 50 per folder."""
    rng = random.Random(SEED)
    files = max(1, min(TEXT_FILES, size // 4096))
    for i in range(files):
        d = dest / f"mod{i // 50:02d}"
        if i % 50 == 0:
            d.mkdir(parents=True)
        want = size // files + (size % files if i == files - 1 else 0)
        (d / f"File{i:03d}.swift").write_bytes(text_file(rng, want))


def text_file(rng: random.Random, want: int) -> bytes:
    words = rng.sample(TEXT_WORDS, 24)
    idents = [a + b.capitalize() + (str(rng.randrange(100)) if rng.random() < 0.3 else "")
              for a, b in zip(rng.choices(words, k=300), rng.choices(TEXT_WORDS, k=300))]
    idents += ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randrange(3, 9)))
               for _ in range(100)]
    lines = [f"// {' '.join(rng.choices(TEXT_WORDS, k=8))}", "import Foundation", ""]
    total, depth = 0, 0
    while total < want:
        n = 512
        ids, nums = rng.choices(idents, k=4 * n), rng.choices(range(1024), k=n)
        types, kinds = rng.choices(TEXT_TYPES, k=n), rng.choices(range(12), k=n)
        for j in range(n):
            a, b, c, e = ids[4 * j:4 * j + 4]
            ind = "    " * depth
            kind = kinds[j] if depth < 4 else 9  # 0-2 open a block, 9-11 close one
            if kind >= 9 and depth == 0:
                kind = 0
            if kind == 0:
                line, depth = f"{ind}func {a}(_ {b}: {types[j]}, {c}: Int) -> {types[j]} {{", depth + 1
            elif kind == 1:
                line, depth = f"{ind}if {a}.{b} > {nums[j]} && !{c}.isEmpty {{", depth + 1
            elif kind == 2:
                line, depth = f"{ind}for {a} in 0..<{b}.count {{", depth + 1
            elif kind == 3:
                line = f"{ind}let {a} = {b}.{c}({e}, {nums[j]})"
            elif kind == 4:
                line = f"{ind}var {a}: {types[j]} = {b}[{nums[j]}]"
            elif kind == 5:
                line = f"{ind}{a} += {b} * {nums[j]} - {c}"
            elif kind == 6:
                line = f"{ind}// {a} {words[nums[j] % 24]} the {b} before {c}"
            elif kind == 7:
                line = f"{ind}try {a}.{b}(\"{c}\", {e}: {nums[j]})"
            elif kind == 8:
                line = f"{ind}return {a} ?? {b}"
            else:
                depth -= 1
                line = "    " * depth + "}"
            lines.append(line)
            total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()[:want]


def tree_digests(root: Path) -> dict[str, str]:
    """Map relative path -> SHA-256 hex digest for every file under root."""
    paths = [Path(d, f) for d, _, files in os.walk(root) for f in files]

    def digest(path: Path) -> str:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()

    with concurrent.futures.ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 2)) as pool:
        return {p.relative_to(root).as_posix(): h for p, h in zip(paths, pool.map(digest, paths))}


def verify(expected: dict[str, str], dest: Path, what: str) -> None:
    actual = tree_digests(dest)
    if actual == expected:
        return
    missing, extra = expected.keys() - actual.keys(), actual.keys() - expected.keys()
    differ = [k for k in expected.keys() & actual.keys() if expected[k] != actual[k]]
    raise BenchError(f"{what}: destination {dest} differs from source: {len(missing)} missing "
                     f"{sorted(missing)[:5]}, {len(extra)} extra {sorted(extra)[:5]}, "
                     f"{len(differ)} different {sorted(differ)[:5]}")



def become_subreaper() -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise BenchError(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def spawn(cmd: list[str], stdout, stderr) -> int:
    """Start cmd with stdin=/dev/null and return its pid (see the module docstring).

    `sh` forks cmd and exits; the pid comes back through sh's stdin, which is the
    write end of a pipe. Being subreaper, we then are cmd's parent and can wait4() it.
    """
    r, w = os.pipe()
    try:
        sh = subprocess.Popen(["sh", "-c", '"$@" </dev/null & echo $! >&0', "sh", *cmd],
                              stdin=w, stdout=stdout, stderr=stderr)
    finally:
        os.close(w)
    with os.fdopen(r) as pid_pipe:
        pid = pid_pipe.read().strip()
    if sh.wait() != 0 or not pid.isdigit():
        raise BenchError(f"could not start {shlex.join(cmd)}")
    return int(pid)


def exited(pid: int) -> bool:
    """True if pid has exited (without reaping it)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


@dataclasses.dataclass
class Usage:
    rss_kib: int  # peak RSS of the process or of any descendant it reaped
    cpu: float  # user + system seconds of the process and every descendant it reaped


def reap(pid: int) -> tuple[int, Usage]:
    """Wait for pid; return (exit code, its usage incl. reaped descendants)."""
    _, status, ru = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), Usage(ru.ru_maxrss, ru.ru_utime + ru.ru_stime)


def cpu_so_far(pid: int) -> float:
    """User + system seconds pid and the children it reaped have used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, quiet: float = 0.3, limit: float = 30.0) -> None:
    """Wait until pid has used no CPU for `quiet` seconds: the server finishes what a session
    left it (e.g. recording the snapshot) before it is stopped, so its CPU-seconds include that."""
    deadline, last, still = time.monotonic() + limit, cpu_so_far(pid), 0.0
    while still < quiet and time.monotonic() < deadline:
        time.sleep(0.05)
        now = cpu_so_far(pid)
        still = still + 0.05 if now - last < 0.005 else 0.0
        last = now


def children(pid: int) -> list[int]:
    """The live (or not yet reaped) children of pid."""
    try:
        return [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    except OSError:
        return []


def stop(pid: int, grace: float = 5.0, reaped_children: bool = False) -> Usage:
    """SIGTERM, then SIGKILL after `grace` seconds; reap and return its usage.

    With `reaped_children`, first wait (up to `grace`) until pid has reaped every child, so their
    CPU-seconds count in its rusage (rsync's daemon: one child per connection)."""
    deadline = time.monotonic() + grace
    while reaped_children and children(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    if reaped_children and (left := children(pid)):
        print(f"warning: pid {pid} still has children {left}; their CPU is not counted", file=sys.stderr)
    pidfd = os.pidfd_open(pid)
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        if not select.select([pidfd], [], [], grace)[0]:
            print(f"warning: pid {pid} ignored SIGTERM, sending SIGKILL", file=sys.stderr)
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)
    return reap(pid)[1]


def run_client(cmd: list[str], logs: Path) -> tuple[float, str, Usage]:
    """Run and time a client; return (seconds, stdout, usage). Abort on failure."""
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    with open(out, "wb") as fo, open(err, "wb") as fe:
        os.sync()
        start = time.perf_counter()
        pid = spawn(cmd, fo, fe)
        try:
            code, usage = reap(pid)
        except BaseException:  # e.g. Ctrl-C: background jobs of sh ignore SIGINT
            os.kill(pid, signal.SIGKILL)
            raise
        seconds = time.perf_counter() - start
    if code != 0:
        sys.stderr.write(err.read_text(errors="replace"))
        raise BenchError(f"{shlex.join(cmd)} exited with {code}")
    return seconds, out.read_text(errors="replace"), usage


def start_filesync_server(bin_dir: Path, dest_root: Path, work: Path, logs: Path, env: Env):
    """Start filesync-server; return (pid, reader thread, 'host:port', CPU-seconds its start took)
    once it is listening."""
    cmd = [*env.prefix, str(bin_dir / "filesync-server"), "--root", str(dest_root), "--port", "0",
           "--interval", "1h", "--name", "bench", "--listen", env.addr,
           "--interface", env.addr, "--config", str(work / "server-config.json")]
    r, w = os.pipe()
    try:
        with open(logs.with_suffix(".server.err"), "wb") as err:
            pid = spawn(cmd, w, err)
    finally:
        os.close(w)
    ready: queue.Queue = queue.Queue()

    def pump() -> None:  # copy stdout to a log, report the address once, drain until EOF
        with os.fdopen(r, errors="replace") as out, open(logs.with_suffix(".server.out"), "w") as log:
            for line in out:
                log.write(line)
                if m := READY_RE.search(line):
                    ready.put(f"{m[1]}:{m[2]}")
            ready.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        addr = ready.get(timeout=30)
    except queue.Empty:
        addr = None
    if addr is None:
        stop(pid)
        raise BenchError(f"filesync-server exited or did not report 'listening on' within 30 s; "
                         f"see {logs.with_suffix('.server.err')}")
    return pid, reader, addr, cpu_so_far(pid)


def run_filesync(bin_dir: Path, src: Path, dest_root: Path, work: Path, logs: Path,
                 unchanged: bool, env: Env, extra: tuple[str, ...] = ()) -> Result:
    pid, reader, addr, startup = start_filesync_server(bin_dir, dest_root, work, logs, env)
    try:
        cmd = [str(bin_dir / "filesync-client"), "--source", str(src), "--id", "bench",
               "--secret-file", str(work / "server.secret"), "--key-file", str(work / "client.key"),
               "--server", addr, "--json", *extra]
        seconds, stdout, client = run_client(cmd, logs)
        at_exit = cpu_so_far(pid)
        settle(pid)
    finally:
        server = stop(pid)
        reader.join(timeout=5)
    try:
        report = json.loads(stdout)
        failed, sent, wire = report["failed"], report["sent"], int(report["bytesOnWire"])
        scanned, excluded = report.get("scanned"), report.get("excluded")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise BenchError(f"bad filesync-client JSON ({e}): {stdout[:500]!r}") from None
    if failed:
        raise BenchError(f"filesync-client reported failures: {failed[:5]}")
    if unchanged and sent != 0:
        raise BenchError(f"filesync unchanged run sent {sent} files, expected 0")
    return Result(seconds, wire, client.rss_kib, server.rss_kib, client.cpu, server.cpu - startup,
                  server.cpu - at_exit, scanned, excluded)


def client_cmd(bin_dir: Path, work: Path, addr: str, *args: str) -> list[str]:
    """A filesync-client command for client id "bench" against the server at addr."""
    return [str(bin_dir / "filesync-client"), *args, "--id", "bench",
            "--secret-file", str(work / "server.secret"), "--key-file", str(work / "client.key"),
            "--server", addr, "--json"]


def setup_restore(bin_dir: Path, src: Path, root: Path, work: Path, logs: Path, env: Env) -> str:
    """Untimed: back up src into server root `root`, then wait for its snapshot (a snapshots
    session waits for the history lock, so it lists the backup's snapshot). Return its id."""
    pid, reader, addr, _ = start_filesync_server(bin_dir, root, work, logs, env)
    try:
        _, stdout, _ = run_client(client_cmd(bin_dir, work, addr, "--source", str(src)), logs)
        listing = logs.with_name(f"{logs.name}-snapshots")
        _, listed, _ = run_client(client_cmd(bin_dir, work, addr, "snapshots"), listing)
    finally:
        stop(pid)
        reader.join(timeout=5)
    try:
        if json.loads(stdout)["failed"]:
            raise BenchError(f"setup backup of {src} reported failures: {stdout[:500]!r}")
        snapshots = json.loads(listed)["snapshots"]
        if len(snapshots) != 1:
            raise BenchError(f"expected 1 snapshot after the setup backup, got {len(snapshots)}")
        return str(snapshots[-1].get("id"))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise BenchError(f"bad filesync-client JSON ({e}): {stdout[:300]!r} {listed[:300]!r}") from None


def run_filesync_restore(bin_dir: Path, root: Path, dest: Path, work: Path, logs: Path,
                         files: int, env: Env) -> Result:
    """Time `filesync-client restore` of the latest snapshot into the empty folder dest."""
    pid, reader, addr, startup = start_filesync_server(bin_dir, root, work, logs, env)
    try:
        cmd = client_cmd(bin_dir, work, addr, "restore", "--to", str(dest))
        seconds, stdout, client = run_client(cmd, logs)
        at_exit = cpu_so_far(pid)
        settle(pid)
    finally:
        server = stop(pid)
        reader.join(timeout=5)
    try:
        report = json.loads(stdout)
        failed, conflicts, restored = report["failed"], report["conflicts"], report["restored"]
    except (ValueError, KeyError, TypeError) as e:
        raise BenchError(f"bad filesync-client restore JSON ({e}): {stdout[:500]!r}") from None
    if failed or conflicts or restored != files:
        raise BenchError(f"filesync restore: {restored} of {files} files restored, "
                         f"failed {failed[:5]}, conflicts {conflicts[:5]}")
    return Result(seconds, None, client.rss_kib, server.rss_kib, client.cpu, server.cpu - startup,
                  server.cpu - at_exit)


def free_port() -> int:
    """A port free on this side; in the LAN set the daemon binds in the other namespace, where
    nothing else listens, so any port free here is good there too."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_for_port(pid: int, addr: str, port: int, log: Path, limit: float = 10.0) -> None:
    """rsync prints nothing when ready, so poll connect() with a short backoff."""
    deadline, delay = time.monotonic() + limit, 0.01
    while time.monotonic() < deadline:
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return
        except OSError:
            if exited(pid):
                raise BenchError(f"rsync daemon exited early, see {log}")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    raise BenchError(f"rsync daemon not accepting on {addr}:{port} after {limit} s")


def run_rsync(src: Path, dest: Path, work: Path, logs: Path, unchanged: bool, env: Env,
              extra: tuple[str, ...] = (), pull: bool = False) -> Result:
    """Push src to the daemon's module [dest]; with `pull`, pull its read-only module [src]
    (serving src) into dest instead (the restore rows)."""
    conf = logs.with_suffix(".rsyncd.conf")
    ids = "uid = root\ngid = root\n" if os.geteuid() == 0 else ""
    module = (f"[src]\npath = {src}\nread only = true\n" if pull
              else f"[dest]\npath = {dest}\nread only = false\n")
    conf.write_text(f"use chroot = no\n{module}{ids}")
    port = free_port()
    with open(logs.with_suffix(".daemon.out"), "wb") as out:
        daemon = spawn([*env.prefix, "rsync", "--daemon", "--no-detach", f"--config={conf}",
                        f"--port={port}", f"--address={env.addr}",
                        f"--log-file={work / 'rsyncd.log'}"], out, out)
    try:
        wait_for_port(daemon, env.addr, port, logs.with_suffix(".daemon.out"))
        # The readiness probe's connection forked a child too: let the daemon reap it first.
        stop_children_wait(daemon)
        startup = cpu_so_far(daemon)
        url = f"rsync://{env.addr}:{port}"
        cmd = ["rsync", "-a", "--stats", *extra, f"{src}/", f"{url}/dest/"]
        if pull:
            cmd = ["rsync", "-a", "--stats", *extra, f"{url}/src/", f"{dest}/"]
        seconds, stdout, client = run_client(cmd, logs)
    finally:
        daemon_usage = stop(daemon, reaped_children=True)

    def stat(name: str) -> int:
        m = re.search(rf"^{name}: ([\d,]+)", stdout, re.M)
        if not m:
            raise BenchError(f"no '{name}' in rsync --stats output")
        return int(m[1].replace(",", ""))

    wire = stat("Total bytes sent") + stat("Total bytes received")
    if unchanged and (n := stat("Number of regular files transferred")) != 0:
        raise BenchError(f"rsync unchanged run transferred {n} files, expected 0")
    return Result(seconds, wire, client.rss_kib, daemon_usage.rss_kib, client.cpu,
                  daemon_usage.cpu - startup)


def stop_children_wait(pid: int, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while children(pid) and time.monotonic() < deadline:
        time.sleep(0.005)


def namespace_ids() -> str:
    return ":".join(str(os.stat(f"/proc/self/ns/{ns}").st_ino) for ns in ("net", "mnt"))


def in_private_namespaces() -> bool:
    """True when this process runs in network and mount namespaces other than those the script
    was started in (ensure_private_netns passes their ids on)."""
    outer = os.environ.get("FILESYNC_BENCH_NETNS", "").split(":")
    return len(outer) == 2 and all(a != b for a, b in zip(outer, namespace_ids().split(":")))


@contextlib.contextmanager
def disk_env(work: Path, args: argparse.Namespace):
    yield Env("disk", {"filesync": work / "dest", "rsync": work / "dest"})


@contextlib.contextmanager
def tmpfs_env(work: Path, args: argparse.Namespace):
    """Three tmpfs mounts (source, filesync's destinations, rsync's) in our private mount namespace."""
    base, mounted = work / "tmpfs", []
    names = ("src", "dest-filesync", "dest-rsync")
    try:
        for name in names:
            (base / name).mkdir(parents=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", f"filesync-bench-{name}",
                            str(base / name)], check=True)
            mounted.append(base / name)
        yield Env("tmpfs", {"filesync": base / "dest-filesync", "rsync": base / "dest-rsync"},
                  durable=False, notes=["tmpfs: source, filesync's and rsync's destinations on three "
                                        "tmpfs mounts of the benchmark's private mount namespace"])
    finally:
        for path in reversed(mounted):
            subprocess.run(["umount", str(path)], check=False)


# Runs in the server's network namespace: counts what one connection sends, answers the count.
TCP_RECEIVER = r"""
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
buf, n = bytearray(1 << 20), 0
while k := c.recv_into(buf):
    n += k
c.sendall(n.to_bytes(8, "big"))
c.close()
"""


def link_tcp_rate(env: Env, size: int) -> float:
    """Bytes per second of one plain TCP stream of `size` bytes across the link (connect to the
    receiver's answer after it has read everything)."""
    receiver = subprocess.Popen([*env.prefix, sys.executable, "-c", TCP_RECEIVER, env.addr],
                                stdout=subprocess.PIPE, text=True)
    try:
        port = int(receiver.stdout.readline())
        block = memoryview(random.Random(SEED).randbytes(1 << 20))
        start = time.perf_counter()
        with socket.create_connection((env.addr, port)) as s:
            left = size
            while left > 0:
                s.sendall(block[:min(left, len(block))])
                left -= len(block)
            s.shutdown(socket.SHUT_WR)
            answer = b""
            while len(answer) < 8 and (part := s.recv(8 - len(answer))):
                answer += part
        seconds = time.perf_counter() - start
    finally:
        try:
            receiver.wait(timeout=30)
        except subprocess.TimeoutExpired:
            receiver.kill()
            receiver.wait()
    if int.from_bytes(answer, "big") != size:
        raise BenchError(f"TCP rate check: receiver got {int.from_bytes(answer, 'big')} of {size} bytes")
    return size / seconds


@contextlib.contextmanager
def lan_env(work: Path, args: argparse.Namespace):
    """A veth pair between our private network namespace (the client's) and a second one held by
    a `sleep` (the server's), each end shaped by tbf. Both namespaces die with their processes."""
    if not in_private_namespaces():
        raise BenchError("the LAN set must run in the script's private network namespace")
    def die_with_us() -> None:  # the holder must not outlive the script, even a killed one
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    holder = subprocess.Popen(["unshare", "-n", "sh", "-c", "echo ready && exec sleep infinity"],
                              stdout=subprocess.PIPE, text=True, preexec_fn=die_with_us)
    try:
        if holder.stdout.readline().strip() != "ready":
            raise BenchError("could not create the server's network namespace")
        enter = ["nsenter", f"--net=/proc/{holder.pid}/ns/net", "--"]
        steps = [
            ["ip", "link", "add", "fsbench0", "type", "veth", "peer", "name", "fsbench1", "netns",
             str(holder.pid)],
            ["ip", "addr", "add", f"{LAN_CLIENT}/{LAN_PREFIX}", "dev", "fsbench0"],
            ["ip", "link", "set", "fsbench0", "up"],
            ["tc", "qdisc", "add", "dev", "fsbench0", "root", "tbf", *LAN_TBF],
            [*enter, "ip", "link", "set", "lo", "up"],
            [*enter, "ip", "addr", "add", f"{LAN_SERVER}/{LAN_PREFIX}", "dev", "fsbench1"],
            [*enter, "ip", "link", "set", "fsbench1", "up"],
            [*enter, "tc", "qdisc", "add", "dev", "fsbench1", "root", "tbf", *LAN_TBF],
        ]
        for step in steps:
            subprocess.run(step, check=True)
        env = Env("lan", {"filesync": work / "dest", "rsync": work / "dest"}, prefix=enter,
                  addr=LAN_SERVER)
        env.notes.append(f"lan: veth pair {LAN_CLIENT} (client) – {LAN_SERVER} (server, second "
                         f"private network namespace), MTU 1500, `tc qdisc add dev … root tbf "
                         f"{' '.join(LAN_TBF)}` on both ends")
        yield env
    finally:
        holder.kill()
        holder.wait()


def cgroup_v2_root() -> Path | None:
    for line in Path("/proc/mounts").read_text().splitlines():
        _, where, fstype, *_ = line.split()
        if fstype == "cgroup2":
            return Path(where)
    return None


@contextlib.contextmanager
def smallserver_env(work: Path, args: argparse.Namespace):
    """A cgroup with a quarter of one core; servers join it before they exec (children follow)."""
    name, v1 = f"filesync-bench-{os.getpid()}", Path("/sys/fs/cgroup/cpu")
    for stale in [*v1.glob("filesync-bench-*"), *((cgroup_v2_root() or v1).glob("filesync-bench-*"))]:
        with contextlib.suppress(OSError):  # left by a killed run: empty, so removable
            if not Path(f"/proc/{stale.name.rsplit('-', 1)[1]}").exists():
                stale.rmdir()
    if (v1 / "cpu.cfs_quota_us").exists():
        cg = v1 / name
        cg.mkdir()
        (cg / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (cg / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA_US))
        how = f"cgroup v1 `cpu`: cpu.cfs_period_us {CPU_PERIOD_US}, cpu.cfs_quota_us {CPU_QUOTA_US}"
    else:
        root = cgroup_v2_root()
        if root is None or "cpu" not in (root / "cgroup.controllers").read_text().split():
            raise BenchError("no cgroup cpu controller (v1 /sys/fs/cgroup/cpu or v2 with cpu)")
        if "cpu" not in (root / "cgroup.subtree_control").read_text().split():
            (root / "cgroup.subtree_control").write_text("+cpu")
        cg = root / name
        cg.mkdir()
        (cg / "cpu.max").write_text(f"{CPU_QUOTA_US} {CPU_PERIOD_US}")
        how = f"cgroup v2: cpu.max {CPU_QUOTA_US} {CPU_PERIOD_US}"
    env = Env("smallserver", {"filesync": work / "dest", "rsync": work / "dest"},
              prefix=["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cg)])
    try:
        yield env
    finally:
        stat = dict(line.split() for line in (cg / "cpu.stat").read_text().splitlines())
        env.notes.append(f"smallserver: the server and rsync's daemon in {cg} ({how}, a quarter of "
                         f"one core); throttled {stat.get('nr_throttled', '?')} of "
                         f"{stat.get('nr_periods', '?')} periods")
        for _ in range(50):
            try:
                cg.rmdir()
                break
            except OSError:  # a process still leaving
                time.sleep(0.1)


ENVS = {"disk": disk_env, "tmpfs": tmpfs_env, "lan": lan_env, "smallserver": smallserver_env,
        "exclude": disk_env}


def make_workloads(args: argparse.Namespace, work: Path) -> dict[int, Workload]:
    count, size, text_size = args.many_count, args.big_size, args.text_size
    big_src, many_src, text_src = work / "src-big", work / "src-many", work / "src-text"
    big_label, many_label = f"{human_size(size)} incompressible, new", f"{count:,} × 4 KiB, new"
    text_label = f"{decimal_size(text_size)} source-like text, new"
    big_bytes, many_bytes = size, count * FILE_SIZE
    new, z = fsync_too("rsync"), {"rsync -z": ("-z",)}
    appended = max(1, APPEND_PER_GIB * size >> 30)
    changed = dict(base=big_src, wire_basis=size, wire_what="file")  # rows 5 and 6
    pull = {"rsync -a pull": (), "rsync -a --fsync pull": ("--fsync",)}
    # For reference, no target: rsync checking new data with a cryptographic hash, as filesync
    # does with SHA-256 (rsync's default, xxh128, is not one; SHA-256 is not in its list).
    sha1 = {"rsync --cc sha1": ("--checksum-choice=sha1",)}

    def time_(vs: str, limit: float) -> Target:
        return Target("time", vs, limit)

    rows = [
        Workload(1, "disk", "big", big_label, big_src, new, [time_("rsync --fsync", 0.6)],
                 durable=True, data_bytes=big_bytes),
        Workload(2, "disk", "many", many_label, many_src, new, [time_("rsync --fsync", 0.8)],
                 durable=True, data_bytes=many_bytes),
        Workload(3, "disk", "many-unchanged", f"{count:,} unchanged", many_src, {"rsync": ()},
                 [time_("rsync", 1.0)], unchanged=True),
        Workload(4, "disk", "flip", f"1 byte changed mid {human_size(size)} file", work / "src-flip",
                 {"rsync": ()}, [time_("rsync", 0.5)], base=big_src, wire_target=1.5),
        Workload(5, "disk", "insert", f"1 byte inserted at the start of {human_size(size)}",
                 work / "src-insert", {"rsync": ()}, wire_target=0.01, **changed),
        Workload(6, "disk", "rename", f"{human_size(size)} file renamed", work / "src-rename",
                 {"rsync": ("--delete",)}, wire_target=0.01, fs_flags=("--delete",), **changed),
        Workload(7, "disk", "append", f"{decimal_size(appended)} appended to a {human_size(size)} log",
                 work / "src-append", {"rsync": ()}, base=big_src, wire_target=1.1,
                 wire_basis=appended, wire_what="appended"),
        Workload(8, "disk", "text", text_label, text_src, fsync_too("rsync -z", flags=z),
                 [time_("rsync -z --fsync", 1.0)], wire_target=1.3, data_bytes=text_size),
        # Rows 9-10: the server has the data of rows 1 and 2 as its latest snapshot.
        # Row 9 also pulls with rsync syncing and checking by SHA-1, for reference (no target): the
        # nearest rsync comes to a restore that syncs every file and checks it by SHA-256.
        Workload(9, "disk", "restore-big", f"restore {human_size(size)} to an empty folder", big_src,
                 {**pull, "rsync -a --fsync --cc sha1 pull": ("--fsync", "--checksum-choice=sha1")},
                 [time_("rsync -a pull", 1.0)], durable=True, restore=True, data_bytes=big_bytes),
        Workload(10, "disk", "restore-many", f"restore {count:,} × 4 KiB to an empty folder", many_src,
                 pull, [time_("rsync -a pull", 1.0)], durable=True, restore=True,
                 data_bytes=many_bytes),
        Workload(11, "tmpfs", "tmpfs-big", big_label, work / "tmpfs" / "src" / "big", {"rsync": (), **sha1},
                 [time_("rsync", 0.6), Target("cpu", "rsync", 0.6)], origin=big_src,
                 data_bytes=big_bytes),
        Workload(12, "tmpfs", "tmpfs-many", many_label, work / "tmpfs" / "src" / "many", {"rsync": (), **sha1},
                 [time_("rsync", 0.6), Target("cpu", "rsync", 0.5)], origin=many_src,
                 data_bytes=many_bytes),
        Workload(13, "lan", "lan-big", big_label, big_src, new, [Target("link", None, 0.95)],
                 data_bytes=big_bytes),
        Workload(14, "lan", "lan-many", many_label, many_src, new, data_bytes=many_bytes),
        Workload(15, "lan", "lan-text", text_label, text_src, fsync_too("rsync", "rsync -z", flags=z),
                 [time_("rsync", 0.5), time_("rsync -z", 1.0)], data_bytes=text_size),
        Workload(16, "lan", "lan-flip", f"1 byte changed mid {human_size(size)} file", work / "src-flip",
                 {"rsync": ()}, base=big_src, wire_target=1.5),
        Workload(17, "smallserver", "small-big", big_label, big_src, {**new, **sha1}, [time_("rsync", 0.5)],
                 data_bytes=big_bytes),
        Workload(18, "smallserver", "small-many", many_label, many_src, new, [time_("rsync", 0.5)],
                 data_bytes=many_bytes),
        # Row 19: nothing changed; the target is against filesync on the tree without the folder.
        Workload(19, "exclude", "excl", f"{EXCLUDE_TREE_FILES:,} × 4 KiB + excluded {EXCLUDED_DIR} "
                 f"of {args.node_modules_count:,}, unchanged", work / "src-excluded",
                 {f"rsync --exclude {EXCLUDED_DIR}": ("--exclude", EXCLUDED_DIR), ALONE: ()},
                 [time_(ALONE, 1.2)], unchanged=True, fs_flags=("--exclude", EXCLUDED_DIR),
                 alone=work / "src-excluded-alone"),
    ]
    return {w.row: w for w in rows}


def generate_sources(args: argparse.Namespace, work: Path, table: dict[int, Workload]) -> None:
    rows, size = args.rows, args.big_size
    big, many = work / "src-big", work / "src-many"
    if rows & {1, 4, 5, 6, 7, 9, 11, 13, 16, 17}:
        generate_big(big, size)
    if rows & {2, 3, 10, 12, 14, 18}:
        generate_many(many, args.many_count)
    if rows & {4, 16}:
        make_flipped(big, work / "src-flip")
    if 5 in rows:
        make_inserted(big, table[5].src)
    if 6 in rows:
        make_renamed(big, table[6].src)
    if 7 in rows:
        make_appended(big, table[7].src, table[7].wire_basis)
    if rows & {8, 15}:
        generate_text(work / "src-text", args.text_size)
    if 19 in rows:
        generate_excluded(table[19].src, table[19].alone, args.node_modules_count)


def slug(runner: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", runner).strip("_")


class Bench:
    """Runs the rows of each set in its environment and keeps every result."""

    def __init__(self, args: argparse.Namespace, work: Path, tools: list[str], bin_dir: Path | None):
        self.args, self.work, self.tools, self.bin_dir = args, work, tools, bin_dir
        self.digests: dict[Path, dict[str, str]] = {}
        self.envs: dict[str, Env] = {}

    def sync(self, w: Workload, runner: str, src: Path, dest: Path, logs: Path, what: str,
             env: Env) -> Result:
        if runner == "filesync":
            r = run_filesync(self.bin_dir, src, dest, self.work, logs, w.unchanged, env, w.fs_flags)
            verify(self.digests[src], dest / "bench", f"filesync {what}")
            return r
        flags = w.variants[runner]
        r = run_rsync(src, dest, self.work, logs, w.unchanged, env, flags)
        if w.durable and env.durable and src == w.src and "--fsync" not in flags:
            started = time.perf_counter()
            os.sync()
            w.rsync_sync.append(time.perf_counter() - started)
        verify(self.digests[src], dest, f"{runner} {what}")
        return r

    def record(self, w: Workload, runner: str, i: int, r: Result, note: str = "") -> None:
        wire = "bytes on wire not reported" if r.wire_bytes is None else f"{r.wire_bytes:,} B on wire"
        print(f"  {w.row!s:>2} {w.key:15} {runner:22} run {i}: {r.seconds:8.3f} s, "
              f"{r.cpu:6.2f} CPU-s, {wire}{note}", flush=True)

    def measure(self, w: Workload, runner: str, i: int, env: Env, dest: Path | None = None,
                record: bool = True) -> Path:
        """One timed run; a fresh destination unless `dest` (unchanged run) is given.

        A workload with a `base` first gets an untimed, verified sync of the base into it."""
        tool = "filesync" if runner == "filesync" else "rsync"
        dest = dest or Path(tempfile.mkdtemp(prefix=f"{slug(runner)}-{w.key}-{i}-", dir=env.dest[tool]))
        if w.base is None and not w.unchanged:
            # A new file is new to the client too: no chunk memo from an earlier run may help.
            shutil.rmtree(self.work / "xdg-cache" / "filesync", ignore_errors=True)
        logs = self.work / "logs" / f"{slug(runner)}-{w.key}-{i}"
        if w.base is not None:
            self.sync(w, runner, w.base, dest, logs.with_name(f"{logs.name}-base"),
                      f"{w.key} run {i} baseline", env)
        r = self.sync(w, runner, w.src, dest, logs, f"{w.key} run {i}", env)
        if record:
            w.results.setdefault(runner, []).append(r)
        self.record(w, runner, i, r, "" if record else " (baseline, not reported)")
        return dest

    def run_rows(self, ws: list[Workload], env: Env) -> None:
        runs, keep = self.args.runs, env.durable  # on disk: deleting many files slows ext4 for minutes
        for w in ws:
            if w.origin is not None and not w.src.exists():
                shutil.copytree(w.origin, w.src, symlinks=True)
                self.digests[w.src] = self.digests[w.origin]
        for w in ws:
            if w.unchanged or w.restore:
                continue
            same = [u for u in ws if u.unchanged and u.src == w.src]  # row 3 after row 2
            for i in range(1, runs + 1):
                for runner in w.runners(self.tools):
                    dest = self.measure(w, runner, i, env, record=True)
                    for u in same:
                        if runner in u.runners(self.tools):
                            self.measure(u, runner, i, env, dest=dest)
                    if w.base is not None or not keep:  # free the space (tmpfs: the memory)
                        shutil.rmtree(dest)
                if w.row == 1:
                    measure_disk_floor(w, self.work, i)
        for u in ws:  # row 3 alone: row 2's runs as its untimed baseline
            if u.unchanged and u.alone is None and not any(w.src == u.src and not w.unchanged for w in ws):
                many = make_workloads(self.args, self.work)[2]
                for i in range(1, runs + 1):
                    for runner in u.runners(self.tools):
                        dest = self.measure(many, runner, i, env, record=False)
                        self.measure(u, runner, i, env, dest=dest)
        for w in ws:
            if w.restore:
                self.run_restore(w, env)
            if w.alone is not None:
                self.run_excluded(w, env)

    def run_excluded(self, w: Workload, env: Env) -> None:
        """Row 19: each run backs up into a fresh destination untimed, then times the nothing-changed
        run: filesync with the folder excluded, filesync on the tree alone (ALONE), rsync --exclude.
        Every destination must hold the tree alone."""
        self.digests[w.src] = self.digests[w.alone]
        fill = dataclasses.replace(w, key=f"{w.key}-fill", unchanged=False, results={})
        alone = dataclasses.replace(w, key=f"{w.key}-alone", src=w.alone, fs_flags=(), results={})
        alone_fill = dataclasses.replace(alone, key=f"{alone.key}-fill", unchanged=False)
        for i in range(1, self.args.runs + 1):
            dests = {}
            for runner in w.runners(self.tools):
                if runner == ALONE:
                    dests[runner] = self.measure(alone_fill, "filesync", i, env, record=False)
                else:
                    dests[runner] = self.measure(fill, runner, i, env, record=False)
            # Runs of about 45 ms spread by about as much as the difference looked for: many timed
            # runs, the tools taking turns so that a change in the machine's load hits all alike.
            for _ in range(EXCLUDE_REPEATS):
                for runner in w.runners(self.tools):
                    if runner == ALONE:  # timed as "filesync" of a row of its own, kept under ALONE here
                        self.measure(alone, "filesync", i, env, dest=dests[runner])
                        w.results.setdefault(ALONE, []).extend(alone.results.pop("filesync"))
                    else:
                        self.measure(w, runner, i, env, dest=dests[runner])
            for dest in dests.values():
                shutil.rmtree(dest)

    def run_restore(self, w: Workload, env: Env) -> None:
        work = self.work
        root = env.dest["filesync"] / f"filesync-{w.key}-root"
        if "filesync" in self.tools:
            snapshot = setup_restore(self.bin_dir, w.src, root, work,
                                     work / "logs" / f"filesync-{w.key}-setup", env)
            verify(self.digests[w.src], root / "bench", f"filesync {w.key} setup backup")
            print(f"  {w.row:>2} {w.key:15} setup: backed up {w.src} untimed, snapshot {snapshot}",
                  flush=True)
        for i in range(1, self.args.runs + 1):
            for runner in w.runners(self.tools):
                tool = "filesync" if runner == "filesync" else "rsync"
                dest = Path(tempfile.mkdtemp(prefix=f"{slug(runner)}-{w.key}-{i}-", dir=env.dest[tool]))
                logs = work / "logs" / f"{slug(runner)}-{w.key}-{i}"
                if runner == "filesync":
                    shutil.rmtree(work / "xdg-cache" / "filesync", ignore_errors=True)
                    r = run_filesync_restore(self.bin_dir, root, dest, work, logs,
                                             len(self.digests[w.src]), env)
                else:
                    r = run_rsync(w.src, dest, work, logs, False, env, w.variants[runner], pull=True)
                    if "--fsync" not in w.variants[runner]:
                        started = time.perf_counter()
                        os.sync()
                        w.rsync_sync.append(time.perf_counter() - started)
                verify(self.digests[w.src], dest, f"{runner} {w.key} run {i}")
                w.results.setdefault(runner, []).append(r)
                self.record(w, runner, i, r)
                shutil.rmtree(dest)

    def run_scale(self, env: Env) -> list[Workload]:
        scaled = []
        for n in self.args.scale:
            fill = Workload("", "disk", f"fill-{n}", f"{n:,} × 64 B, new", self.work / f"src-scale-{n}",
                            {"rsync": ()})
            idle = Workload("S", "disk", f"unchanged-{n}", f"{n:,} unchanged (scaling)", fill.src,
                            {"rsync": ()}, [Target("time", "rsync", 1.0)], unchanged=True)
            generate_many(fill.src, n, 64)
            self.digests[fill.src] = tree_digests(fill.src)
            for i in range(1, self.args.runs + 1):
                for runner in idle.runners(self.tools):
                    dest = self.measure(fill, runner, i, env, record=False)
                    self.measure(idle, runner, i, env, dest=dest)
                    shutil.rmtree(dest)
            scaled.append(idle)
        return scaled

    def run(self) -> list[Workload]:
        args, work = self.args, self.work
        table = make_workloads(args, work)
        chosen = [table[r] for r in sorted(args.rows)]
        if os.geteuid() != 0 or not in_private_namespaces():
            skipped = [w for w in chosen if w.set in ROOT_SETS]
            if skipped:
                print(f"note: rows {', '.join(str(w.row) for w in skipped)} need root (mounts, network "
                      "namespaces, cgroups) and the private namespaces: skipped")
            chosen = [w for w in chosen if w.set not in ROOT_SETS]
        print(f"generating data in {work} ...", flush=True)
        generate_sources(args, work, table)
        sources = [p for w in chosen for p in (w.base, w.alone or w.origin or w.src) if p]
        self.digests = {src: tree_digests(src) for src in dict.fromkeys(sources)}
        (work / "dest").mkdir()
        (work / "logs").mkdir()
        scaled = []
        for name, maker in ENVS.items():
            ws = [w for w in chosen if w.set == name]
            if not ws and not (name == "disk" and args.scale):
                continue
            print(f"set {name}: rows {', '.join(str(w.row) for w in ws) or '–'}", flush=True)
            with maker(work, args) as env:
                self.envs[name] = env
                if name == "lan":
                    self.measure_link(env)
                self.run_rows(ws, env)
                if name == "lan":
                    self.measure_link(env)
                if name == "disk":
                    scaled = self.run_scale(env)
        return chosen + scaled

    def measure_link(self, env: Env) -> None:
        size = self.args.big_size
        rate = link_tcp_rate(env, size)
        env.link_rates.append(rate)
        print(f"  lan link: raw TCP, {size:,} B: {rate / 1e6:.1f} MB/s ({rate * 8 / 1e6:.0f} Mbit/s)",
              flush=True)


# What it costs the disk alone to take the big file durably, timed between the tools' runs: any
# tool that syncs (filesync does, plain rsync does not) needs at least this long in that phase.
DISK_FLOORS = {
    "dd oflag=direct conv=fdatasync": ["oflag=direct", "conv=fdatasync"],
    "dd conv=fdatasync": ["conv=fdatasync"],
}


def measure_disk_floor(w: Workload, work: Path, i: int) -> None:
    (src,) = [p for p in w.src.rglob("*") if p.is_file()]
    for name, flags in DISK_FLOORS.items():
        dest = work / "dest" / f"floor-{i}.bin"
        started = time.monotonic()
        subprocess.run(["dd", f"if={src}", f"of={dest}", "bs=4M", "status=none", *flags], check=True)
        seconds = time.monotonic() - started
        dest.unlink()
        w.floors.setdefault(name, []).append(seconds)
        print(f"  {w.key:15} {name} run {i}: {seconds:8.3f} s", flush=True)


def command_line(cmd: list[str], cwd: Path = REPO) -> str:
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout
        return out.splitlines()[0].strip()
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def median(rs: list[Result], attr: str) -> float | None:
    vals = [getattr(r, attr) for r in rs if getattr(r, attr) is not None]
    return statistics.median(vals) if vals else None


def fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def wire_verdict(w: Workload, fs: list[Result], rs: list[Result]) -> str:
    """E.g. 'bytes ≤ 1.5× rsync: 0.98× met' or 'bytes ≤ 1% of file: 100.0% MISSED'."""
    limit, basis = w.wire_target, w.wire_basis
    percent = limit < 1
    what = next(iter(w.variants)) if w.wire_what == "rsync" else w.wire_what
    text = f"bytes ≤ {limit:.0%} of {what}" if percent else f"bytes ≤ {limit:g}× {what}"
    if basis is None and rs:
        basis = median(rs, "wire_bytes")
    if not fs or not basis:
        return text
    value = median(fs, "wire_bytes") / basis
    got = f"{value:.1%}" if percent else f"{value:.2f}×"
    return f"{text}: {got} {'met' if value <= limit else 'MISSED'}"


def target_verdict(t: Target, w: Workload, link_rate: float | None) -> tuple[str, bool | None]:
    """('time ≤ 0.6× rsync --fsync: 0.57× met', True); None: not measured."""
    fs, rs = w.results.get("filesync", []), w.results.get(t.vs, [])
    if t.metric == "link":
        text = f"≥ {t.limit:.0%} of the link's TCP rate"
        if not fs or not link_rate:
            return text, None
        value = w.data_bytes / median(fs, "seconds") / link_rate
        return f"{text}: {value:.1%} {'met' if value >= t.limit else 'MISSED'}", value >= t.limit
    attr = "seconds" if t.metric == "time" else "cpu"
    text = f"{t.metric} ≤ {t.limit:g}× {t.vs}"
    if not rsync_fsync and "--fsync" in w.variants[t.vs]:
        return f"{text}: n/a", None
    if not fs or not rs:
        return text, None
    value = median(fs, attr) / median(rs, attr)
    return f"{text}: {value:.2f}× {'met' if value <= t.limit else 'MISSED'}", value <= t.limit


def excluded_verdict(w: Workload) -> tuple[str, bool | None, str]:
    """Row 19: (verdict, ok, report line) on the client's counts with and without the folder."""
    fs, alone = w.results.get("filesync", []), w.results.get(ALONE, [])
    counts = sorted({(r.scanned, r.excluded) for r in fs}, key=str)
    alone_scanned = sorted({r.scanned for r in alone}, key=str)
    text = f"{EXCLUDED_DIR} not entered (excluded = 1, scanned = tree alone's)"
    note = (f"- {w.row} {w.set}: with {EXCLUDED_DIR}: "
            + ", ".join(f"scanned {s}, excluded {e}" for s, e in counts)
            + f"; tree alone: scanned {', '.join(str(s) for s in alone_scanned)}")
    if not fs or any(s is None or e is None for s, e in counts):
        return f"{text}: not measured", None, note
    ok = all(e == 1 for _, e in counts) and {s for s, _ in counts} <= set(alone_scanned or [EXCLUDE_TREE_FILES])
    got = "; ".join(f"excluded {e}, scanned {s}" for s, e in counts)
    return f"{text}: {got} {'met' if ok else 'MISSED'}", ok, note


def render(workloads: list[Workload], runs: int, envs: dict[str, Env]) -> str:
    lan = envs.get("lan")
    link_rate = statistics.median(lan.link_rates) if lan and lan.link_rates else None
    lines = [f"- machine: nproc {len(os.sched_getaffinity(0))}, kernel {os.uname().release}",
             f"- rsync: {command_line(['rsync', '--version'])}",
             f"- filesync commit: {command_line(['git', 'rev-parse', '--short', 'HEAD'])}",
             f"- times: median of {runs} client wall-clock runs; CPU-s: median of user + system "
             "seconds, client + server (wait4); RSS: max over runs"]
    lines += [f"- {note}" for env in envs.values() for note in env.notes]
    if not rsync_fsync:
        lines.append(f"- rsync --fsync: {NO_FSYNC}")
    if lan and lan.link_rates:
        rates = ", ".join(f"{r / 1e6:.1f}" for r in lan.link_rates)
        lines.append(f"- lan: the link's raw TCP rate (one Python socket stream, before and after the "
                     f"set's rows): {rates} MB/s, median {link_rate / 1e6:.1f} MB/s "
                     f"({link_rate * 8 / 1e6:.0f} Mbit/s)")
    lines += ["", "Time and CPU, filesync against each rsync variant (target verdicts on the line of "
              "the variant they compare with):", "",
              "| # | set | workload | against | filesync s | rsync s | time fs/rsync | filesync CPU-s "
              "| rsync CPU-s | CPU fs/rsync | target |",
              "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    verdicts = []
    for w in workloads:
        fs = w.results.get("filesync", [])
        for n, variant in enumerate(w.variants):
            rs = w.results.get(variant, [])
            targets = [t for t in w.targets if t.vs == variant or (t.vs is None and n == 0)]
            texts = []
            for t in targets:
                text, ok = target_verdict(t, w, link_rate)
                texts.append(text)
                verdicts.append((w, text, ok))
            if n == 0 and w.wire_target is not None:
                text = wire_verdict(w, fs, w.results.get(variant, []))
                texts.append(text)
                verdicts.append((w, text, None if "met" not in text and "MISSED" not in text
                                 else text.endswith(" met")))
            if w.data_bytes and n == 0 and fs and link_rate and w.set == "lan":
                texts.append(f"{w.data_bytes / median(fs, 'seconds') / 1e6:.1f} MB/s")
            if not rsync_fsync and "--fsync" in w.variants[variant]:
                lines.append(f"| {w.row} | {w.set} | {w.label if n == 0 else '〃'} | {variant} | "
                             f"n/a |||||| {'; '.join(texts)} |")
                continue
            fs_s, rs_s = median(fs, "seconds"), median(rs, "seconds")
            fs_c, rs_c = median(fs, "cpu"), median(rs, "cpu")
            ratio_s = fs_s / rs_s if fs_s and rs_s else None
            ratio_c = fs_c / rs_c if fs_c and rs_c else None
            lines.append(f"| {w.row} | {w.set} | {w.label if n == 0 else '〃'} | {variant} | "
                         f"{fmt(fs_s, '.3f') if n == 0 else '〃'} | {fmt(rs_s, '.3f')} | "
                         f"{fmt(ratio_s, '.2f')} | {fmt(fs_c, '.2f') if n == 0 else '〃'} | "
                         f"{fmt(rs_c, '.2f')} | {fmt(ratio_c, '.2f')} | {'; '.join(texts)} |")
    lines += ["", f"Per side (rsync: its first variant; RSS: max over all its variants; "
              f"target: peak RSS of client and server < {RSS_LIMIT_MB} MB):", "",
              "| # | set | workload | fs bytes on wire | rsync bytes on wire | fs client CPU-s | "
              "fs server CPU-s (after client exit) | fs server CPU-s/GiB | rsync client CPU-s | rsync daemon CPU-s | "
              "rsync daemon CPU-s/GiB | fs client RSS MB | fs server RSS MB | rsync client RSS MB | "
              "rsync daemon RSS MB | RSS |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for w in workloads:
        fs = w.results.get("filesync", [])
        rs = w.results.get(next(iter(w.variants)), [])
        every_rs = [r for v in w.variants if v.startswith("rsync") for r in w.results.get(v, [])]
        per_gib = (lambda rs_: median(rs_, "server_cpu") / (w.data_bytes / (1 << 30))
                   if rs_ and w.data_bytes else None)
        peaks = [max((getattr(r, a) for r in rr), default=None) for rr, a in
                 ((fs, "client_rss_kib"), (fs, "server_rss_kib"), (every_rs, "client_rss_kib"),
                  (every_rs, "server_rss_kib"))]
        mb = [None if p is None else p / 1024 for p in peaks]
        fs_peak = [m for m in mb[:2] if m is not None]
        rss_ok = None if not fs_peak else max(fs_peak) < RSS_LIMIT_MB
        if rss_ok is not None:
            verdicts.append((w, f"peak RSS < {RSS_LIMIT_MB} MB: {max(fs_peak):.1f} MB", rss_ok))
        lines.append(f"| {w.row} | {w.set} | {w.label} | {fmt(median(fs, 'wire_bytes'), ',.0f')} | "
                     f"{fmt(median(rs, 'wire_bytes'), ',.0f')} | {fmt(median(fs, 'client_cpu'), '.2f')} | "
                     f"{fmt(median(fs, 'server_cpu'), '.2f')} ({fmt(median(fs, 'server_cpu_after'), '.2f')}) | "
                     f"{fmt(per_gib(fs), '.2f')} | "
                     f"{fmt(median(rs, 'client_cpu'), '.2f')} | {fmt(median(rs, 'server_cpu'), '.2f')} | "
                     f"{fmt(per_gib(rs), '.2f')} | {' | '.join(fmt(m, '.1f') for m in mb)} | "
                     f"{'–' if rss_ok is None else 'met' if rss_ok else 'MISSED'} |")
    notes = []
    for w in workloads:
        if w.alone is not None:
            text, ok, note = excluded_verdict(w)
            verdicts.append((w, text, ok))
            notes.append(note)
    if notes:
        lines += ["", f"Excluded folder (row 19; `scanned`, `excluded` from filesync-client --json, "
                  f"every timed run): an excluded {EXCLUDED_DIR} is not entered when `excluded` is 1 "
                  "and `scanned` is the tree alone's; the time target compares the median of "
                  f"{EXCLUDE_REPEATS} timed runs per --runs, the tools taking turns, with filesync on "
                  f"the tree without the folder (\"{ALONE}\", in the rsync columns above).", ""]
        lines += notes
    missed = [f"row {w.row} ({w.set}, {w.label}): {text}" for w, text, ok in verdicts if ok is False]
    met = sum(1 for _, _, ok in verdicts if ok)
    lines += ["", f"Targets: {met} met, {len(missed)} missed" + (":" if missed else ".")]
    lines += [f"- {m}" for m in missed]
    lines += ["", "Individual runs (s; CPU-s):"]
    for w in workloads:
        for runner, rs in w.results.items():
            times = ", ".join(f"{r.seconds:.3f}" for r in rs)
            cpus = ", ".join(f"{r.cpu:.2f}" for r in rs)
            lines.append(f"- {w.row} {w.set}, {w.label} / {runner}: {times}; CPU-s {cpus}")
    for w in workloads:
        rs = w.results.get(next(iter(w.variants)), [])
        for name, times in w.floors.items():
            value = statistics.median(times)
            ratio = f" = {value / median(rs, 'seconds'):.2f}× rsync" if rs else ""
            lines.append(f"- {w.row} {w.set}, {w.label} / disk floor, `{name}`: "
                         f"{', '.join(f'{t:.3f}' for t in times)} (median {value:.3f} s{ratio})")
    for w in workloads:
        fs, rs = w.results.get("filesync", []), w.results.get(next(iter(w.variants)), [])
        if fs and rs and w.rsync_sync:
            total = [r.seconds + t for r, t in zip(rs, w.rsync_sync)]
            value = median(fs, "seconds") / statistics.median(total)
            lines.append(f"- {w.row} {w.set}, {w.label} / {next(iter(w.variants))}, then `sync` (the "
                         f"writeback plain rsync leaves to the kernel; filesync's time includes its "
                         f"own): {', '.join(f'{t:.3f}' for t in total)} (median "
                         f"{statistics.median(total):.3f} s; filesync = {value:.2f}× that)")
    lines += ["", "rsync daemon CPU-seconds and RSS are the daemon's wait4() figures, which on Linux "
              "also cover the per-connection children it forked, once it has reaped them (the "
              "script waits for that before stopping it). A server's CPU-seconds exclude its start "
              "(up to listening) and include what it does after the client has exited (filesync: "
              "in brackets; the server is stopped once it has been idle for 0.3 s). `rsync --fsync` syncs each file it "
              "writes, not its folders; filesync syncs both."]
    return "\n".join(lines) + "\n"


def main() -> int:
    args = parse_args()
    ensure_private_netns()
    become_subreaper()
    tools = [args.only] if args.only else list(TOOLS)
    if shutil.which("rsync") is None and "rsync" in tools:
        raise BenchError("rsync not installed")
    global rsync_fsync
    rsync_fsync = "--fsync" in subprocess.run(["rsync", "--help"], capture_output=True, text=True).stdout
    if not rsync_fsync:
        print(f"note: rsync --fsync: {NO_FSYNC}")
    bin_dir = args.bin_dir
    if "filesync" in tools and bin_dir is None:
        bin_dir = Path(command_line(["swift", "build", "-c", "release", "--static-swift-stdlib", "--show-bin-path"]))
    for exe in ("filesync-server", "filesync-client") if "filesync" in tools else ():
        if not os.access(bin_dir / exe, os.X_OK):
            raise BenchError(f"{bin_dir / exe} not found; build with make release")
    owned = args.work is None
    work = Path(tempfile.mkdtemp(prefix="filesync-bench-", dir="/tmp")) if owned else args.work
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()) and not owned:
        raise BenchError(f"--work {work} must be empty or not exist")
    # The client's pinned fingerprints, lock and chunk memos live under the work folder, never in the user's.
    for var, name in (("XDG_CONFIG_HOME", "xdg-config"), ("XDG_RUNTIME_DIR", "xdg-runtime"),
                      ("XDG_CACHE_HOME", "xdg-cache")):
        (work / name).mkdir(mode=0o700, exist_ok=True)
        os.environ[var] = str(work / name)
    try:
        bench = Bench(args, work, tools, bin_dir)
        report = render(bench.run(), args.runs, bench.envs)
        print("\n" + report, end="")
        (work / "bench.md").write_text(report)
        if args.out:
            args.out.write_text(report)
    finally:
        if owned and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work dir kept: {work}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
