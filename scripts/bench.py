#!/usr/bin/env python3
"""Benchmark filesync against rsync (daemon mode) on 127.0.0.1.

Generates reproducible data (seed 42) once, then runs each workload --runs
times per tool, alternating tools, each "new" run into a fresh, never-used
destination folder. Every run is verified by SHA-256 of the whole tree
(untimed). Prints a Markdown table of median client wall-clock times, bytes on
the wire and peak RSS, and writes it to WORK/bench.md (and --out FILE).

Rows 4-7 ("changed") measure an update: each run first syncs the original big
file untimed into a fresh destination (verified), then times the sync of a
prepared copy of the source with the change applied. Rows 9-10 ("restore") back
up the data of rows 1 and 2 once with filesync (untimed), wait for its snapshot,
then time `filesync-client restore` into a fresh empty folder against
`rsync -a` pulling the same data from the daemon. --rows picks a subset.

As root, the script re-executes itself inside a private network namespace
(`unshare -n`) with only loopback up, so no packet can leave the machine.

Peak RSS comes from os.wait4(). A process exec'd straight from Python would
report Python's own RSS high-water mark (vfork shares our address space), so
every measured process is forked by a tiny `sh` and adopted by this script as
child subreaper. On Linux the wait4() rusage also covers descendants a process
reaped, so the rsync daemon figure includes its per-connection children.
"""
import argparse, concurrent.futures, ctypes, dataclasses, hashlib, json, os, queue, random
import re, select, shlex, shutil, signal, socket, statistics, subprocess, sys, tempfile
import threading, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = 42
CHUNK = 8 << 20
FILE_SIZE = 4096
APPEND_PER_GIB = 10_000_000  # row 7 appends this much per GiB of --big-size
TEXT_FILES = 300
ROWS = range(1, 11)
TOOLS = ("filesync", "rsync")
READY_RE = re.compile(r"listening on ([0-9.]+):([0-9]+)")
PR_SET_CHILD_SUBREAPER = 36


class BenchError(Exception):
    """Any failure that must abort the benchmark."""


@dataclasses.dataclass
class Result:
    seconds: float
    wire_bytes: int | None  # None: not known (filesync restore reports no bytes on wire)
    client_rss_kib: int
    server_rss_kib: int


@dataclasses.dataclass
class Workload:
    key: str
    label: str
    target: float | None  # max time ratio filesync/rsync, None: no time target
    src: Path
    results: dict = dataclasses.field(default_factory=lambda: {t: [] for t in TOOLS})
    base: Path | None = None  # synced untimed into the fresh destination before each run
    wire_target: float | None = None  # max filesync bytes on wire / wire_basis
    wire_basis: int | None = None  # None: rsync's median bytes on wire
    wire_what: str = "rsync"
    fs_flags: tuple[str, ...] = ()
    rsync_flags: tuple[str, ...] = ()
    unchanged: bool = False  # the run must send nothing
    floors: dict = dataclasses.field(default_factory=dict)  # reference command -> seconds per run
    # New-data rows: seconds of a `sync` right after each rsync run, the writeback rsync leaves to
    # the kernel (filesync's time includes making its data durable).
    durable: bool = False
    rsync_sync: list = dataclasses.field(default_factory=list)


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
                   help="bytes of source-like text (row 8)")
    p.add_argument("--rows", type=parse_rows, default=set(ROWS),
                   help="comma list of row numbers 1-10 to run (default: all)")
    p.add_argument("--scale", type=lambda t: [int(n) for n in t.split(",")], default=[],
                   help="also time nothing-changed runs over these file counts, e.g. 100000,1000000 "
                        "(tiny files; each count is first synced untimed)")
    p.add_argument("--only", choices=TOOLS, help="benchmark only one tool")
    p.add_argument("--out", type=Path, help="also write the report to this file")
    args = p.parse_args()
    if args.runs < 1 or args.big_size < 1 or args.many_count < 1 or args.text_size < 1:
        p.error("--runs, --big-size, --many-count and --text-size must be positive")
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


def ensure_private_netns() -> None:
    """As root, re-exec inside `unshare -n` with only loopback up."""
    if os.environ.get("FILESYNC_BENCH_NETNS"):
        print("note: running in a private network namespace (loopback only)")
    elif os.geteuid() == 0:
        inner = shlex.join([sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
        script = f"ip link set lo up && FILESYNC_BENCH_NETNS=1 exec {inner}"
        sys.stdout.flush()
        os.execvp("unshare", ["unshare", "-n", "sh", "-c", script])
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


def reap(pid: int) -> tuple[int, int]:
    """Wait for pid; return (exit code, peak RSS in KiB incl. reaped descendants)."""
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss


def stop(pid: int, grace: float = 5.0) -> int:
    """SIGTERM, then SIGKILL after `grace` seconds; reap and return peak RSS in KiB."""
    pidfd = os.pidfd_open(pid)
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        if not select.select([pidfd], [], [], grace)[0]:
            print(f"warning: pid {pid} ignored SIGTERM, sending SIGKILL", file=sys.stderr)
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)
    return reap(pid)[1]


def run_client(cmd: list[str], logs: Path) -> tuple[float, str, int]:
    """Run and time a client; return (seconds, stdout, peak RSS KiB). Abort on failure."""
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    with open(out, "wb") as fo, open(err, "wb") as fe:
        os.sync()
        start = time.perf_counter()
        pid = spawn(cmd, fo, fe)
        try:
            code, rss = reap(pid)
        except BaseException:  # e.g. Ctrl-C: background jobs of sh ignore SIGINT
            os.kill(pid, signal.SIGKILL)
            reap(pid)
            raise
        seconds = time.perf_counter() - start
    if code != 0:
        sys.stderr.write(err.read_text(errors="replace"))
        raise BenchError(f"{shlex.join(cmd)} exited with {code}")
    return seconds, out.read_text(errors="replace"), rss


def start_filesync_server(bin_dir: Path, dest_root: Path, work: Path, logs: Path):
    """Start filesync-server; return (pid, reader thread, 'host:port') once it is listening."""
    cmd = [str(bin_dir / "filesync-server"), "--root", str(dest_root), "--port", "0",
           "--interval", "1h", "--name", "bench", "--listen", "127.0.0.1",
           "--interface", "127.0.0.1", "--config", str(work / "server-config.json")]
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
    return pid, reader, addr


def run_filesync(bin_dir: Path, src: Path, dest_root: Path, work: Path, logs: Path,
                 unchanged: bool, extra: tuple[str, ...] = ()) -> Result:
    pid, reader, addr = start_filesync_server(bin_dir, dest_root, work, logs)
    try:
        cmd = [str(bin_dir / "filesync-client"), "--source", str(src), "--id", "bench",
               "--secret-file", str(work / "server.secret"), "--key-file", str(work / "client.key"),
               "--server", addr, "--json", *extra]
        seconds, stdout, client_rss = run_client(cmd, logs)
    finally:
        server_rss = stop(pid)
        reader.join(timeout=5)
    try:
        report = json.loads(stdout)
        failed, sent, wire = report["failed"], report["sent"], int(report["bytesOnWire"])
    except (ValueError, KeyError, TypeError) as e:
        raise BenchError(f"bad filesync-client JSON ({e}): {stdout[:500]!r}") from None
    if failed:
        raise BenchError(f"filesync-client reported failures: {failed[:5]}")
    if unchanged and sent != 0:
        raise BenchError(f"filesync unchanged run sent {sent} files, expected 0")
    return Result(seconds, wire, client_rss, server_rss)


def client_cmd(bin_dir: Path, work: Path, addr: str, *args: str) -> list[str]:
    """A filesync-client command for client id "bench" against the server at addr."""
    return [str(bin_dir / "filesync-client"), *args, "--id", "bench",
            "--secret-file", str(work / "server.secret"), "--key-file", str(work / "client.key"),
            "--server", addr, "--json"]


def setup_restore(bin_dir: Path, src: Path, root: Path, work: Path, logs: Path) -> str:
    """Untimed: back up src into server root `root`, then wait for its snapshot (a snapshots
    session waits for the history lock, so it lists the backup's snapshot). Return its id."""
    pid, reader, addr = start_filesync_server(bin_dir, root, work, logs)
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
                         files: int) -> Result:
    """Time `filesync-client restore` of the latest snapshot into the empty folder dest."""
    pid, reader, addr = start_filesync_server(bin_dir, root, work, logs)
    try:
        cmd = client_cmd(bin_dir, work, addr, "restore", "--to", str(dest))
        seconds, stdout, client_rss = run_client(cmd, logs)
    finally:
        server_rss = stop(pid)
        reader.join(timeout=5)
    try:
        report = json.loads(stdout)
        failed, conflicts, restored = report["failed"], report["conflicts"], report["restored"]
    except (ValueError, KeyError, TypeError) as e:
        raise BenchError(f"bad filesync-client restore JSON ({e}): {stdout[:500]!r}") from None
    if failed or conflicts or restored != files:
        raise BenchError(f"filesync restore: {restored} of {files} files restored, "
                         f"failed {failed[:5]}, conflicts {conflicts[:5]}")
    return Result(seconds, None, client_rss, server_rss)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(pid: int, port: int, log: Path, limit: float = 10.0) -> None:
    """rsync prints nothing when ready, so poll connect() with a short backoff."""
    deadline, delay = time.monotonic() + limit, 0.01
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if exited(pid):
                raise BenchError(f"rsync daemon exited early, see {log}")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    raise BenchError(f"rsync daemon not accepting on port {port} after {limit} s")


def run_rsync(src: Path, dest: Path, work: Path, logs: Path, unchanged: bool,
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
        daemon = spawn(["rsync", "--daemon", "--no-detach", f"--config={conf}", f"--port={port}",
                        "--address=127.0.0.1", f"--log-file={work / 'rsyncd.log'}"], out, out)
    try:
        wait_for_port(daemon, port, logs.with_suffix(".daemon.out"))
        cmd = ["rsync", "-a", "--stats", *extra, f"{src}/", f"rsync://127.0.0.1:{port}/dest/"]
        if pull:
            cmd = ["rsync", "-a", "--stats", *extra, f"rsync://127.0.0.1:{port}/src/", f"{dest}/"]
        seconds, stdout, client_rss = run_client(cmd, logs)
    finally:
        daemon_rss = stop(daemon)

    def stat(name: str) -> int:
        m = re.search(rf"^{name}: ([\d,]+)", stdout, re.M)
        if not m:
            raise BenchError(f"no '{name}' in rsync --stats output")
        return int(m[1].replace(",", ""))

    wire = stat("Total bytes sent") + stat("Total bytes received")
    if unchanged and (n := stat("Number of regular files transferred")) != 0:
        raise BenchError(f"rsync unchanged run transferred {n} files, expected 0")
    return Result(seconds, wire, client_rss, daemon_rss)


def run_benchmark(args: argparse.Namespace, work: Path, tools: list[str],
                  bin_dir: Path | None) -> list[Workload]:
    count, size, rows = args.many_count, args.big_size, args.rows
    big = Workload("big", f"{human_size(size)} incompressible, new", 0.6, work / "src-big", durable=True)
    many = Workload("many", f"{count:,} × 4 KiB, new", 0.8, work / "src-many", durable=True)
    same = Workload("many-unchanged", f"{count:,} unchanged", 1.0, many.src, unchanged=True)
    appended = max(1, APPEND_PER_GIB * size >> 30)
    changed = dict(base=big.src, wire_basis=size, wire_what="file")  # rows 5 and 6
    flip = Workload("flip", f"1 byte changed mid {human_size(size)} file", 0.5, work / "src-flip",
                    base=big.src, wire_target=1.5)
    insert = Workload("insert", f"1 byte inserted at the start of {human_size(size)}", None,
                      work / "src-insert", wire_target=0.01, **changed)
    rename = Workload("rename", f"{human_size(size)} file renamed", None, work / "src-rename",
                      wire_target=0.01, fs_flags=("--delete",), rsync_flags=("--delete",),
                      **changed)
    append = Workload("append", f"{decimal_size(appended)} appended to a {human_size(size)} log",
                      None, work / "src-append", base=big.src, wire_target=1.1,
                      wire_basis=appended, wire_what="appended")
    text = Workload("text", f"{decimal_size(args.text_size)} source-like text, new (rsync -z)",
                    1.0, work / "src-text", wire_target=1.3, rsync_flags=("-z",))
    # Rows 9-10: the server has the data of rows 1 and 2 as its latest snapshot (restored files
    # are fsync'ed, so the rsync-then-`sync` figure is printed too).
    restore_big = Workload("restore-big", f"restore {human_size(size)} to an empty folder "
                           "(vs rsync -a pull)", 1.0, big.src, durable=True)
    restore_many = Workload("restore-many", f"restore {count:,} × 4 KiB to an empty folder "
                            "(vs rsync -a pull)", 1.0, many.src, durable=True)
    table = dict(zip(ROWS, (big, many, same, flip, insert, rename, append, text,
                            restore_big, restore_many)))
    print(f"generating data in {work} ...", flush=True)
    if rows & {1, 4, 5, 6, 7, 9}:
        generate_big(big.src, size)
    if rows & {2, 3, 10}:
        generate_many(many.src, count)
    for row, make in ((4, make_flipped), (5, make_inserted), (6, make_renamed)):
        if row in rows:
            make(big.src, table[row].src)
    if 7 in rows:
        make_appended(big.src, append.src, appended)
    if 8 in rows:
        generate_text(text.src, args.text_size)
    sources = [p for row in sorted(rows) for p in (table[row].base, table[row].src) if p]
    digests = {src: tree_digests(src) for src in dict.fromkeys(sources)}
    (work / "dest").mkdir()
    (work / "logs").mkdir()

    def sync(w: Workload, tool: str, src: Path, dest: Path, logs: Path, what: str) -> Result:
        unchanged = w.unchanged
        if tool == "filesync":
            r = run_filesync(bin_dir, src, dest, work, logs, unchanged, w.fs_flags)
            verify(digests[src], dest / "bench", f"filesync {what}")
        else:
            r = run_rsync(src, dest, work, logs, unchanged, w.rsync_flags)
            if w.durable and src == w.src:
                started = time.perf_counter()
                os.sync()
                w.rsync_sync.append(time.perf_counter() - started)
            verify(digests[src], dest, f"rsync {what}")
        return r

    def measure(w: Workload, tool: str, i: int, dest: Path | None = None,
                record: bool = True) -> Path:
        """One timed run; a fresh destination unless `dest` (unchanged run) is given.

        A workload with a `base` first gets an untimed, verified sync of the base into it."""
        dest = dest or Path(tempfile.mkdtemp(prefix=f"{tool}-{w.key}-{i}-", dir=work / "dest"))
        if w.base is None and not w.unchanged:
            # A new file is new to the client too: no chunk memo from an earlier run may help.
            shutil.rmtree(work / "xdg-cache" / "filesync", ignore_errors=True)
        logs = work / "logs" / f"{tool}-{w.key}-{i}"
        if w.base is not None:
            sync(w, tool, w.base, dest, logs.with_name(f"{logs.name}-base"),
                 f"{w.key} run {i} baseline")
        r = sync(w, tool, w.src, dest, logs, f"{w.key} run {i}")
        if record:
            w.results[tool].append(r)
        print(f"  {w.key:15} {tool:8} run {i}: {r.seconds:8.3f} s, {r.wire_bytes:,} B on wire"
              f"{'' if record else ' (baseline for row 3, not reported)'}", flush=True)
        return dest

    if 1 in rows:
        for i in range(1, args.runs + 1):
            for tool in tools:
                measure(big, tool, i)
            measure_disk_floor(big, work, i)
    if rows & {2, 3}:
        for i in range(1, args.runs + 1):
            for tool in tools:
                dest = measure(many, tool, i, record=2 in rows)
                if 3 in rows:
                    measure(same, tool, i, dest=dest)
    for w in (table[row] for row in sorted(rows) if 4 <= row <= 8):
        for i in range(1, args.runs + 1):
            for tool in tools:
                dest = measure(w, tool, i)
                if w.base is not None:  # a big file per run: free the space
                    shutil.rmtree(dest)
    for w in (table[row] for row in sorted(rows) if row >= 9):
        root = work / "dest" / f"filesync-{w.key}-root"
        if "filesync" in tools:
            snapshot = setup_restore(bin_dir, w.src, root, work, work / "logs" / f"filesync-{w.key}-setup")
            verify(digests[w.src], root / "bench", f"filesync {w.key} setup backup")
            print(f"  {w.key:15} setup: backed up {w.src} untimed, snapshot {snapshot}", flush=True)
        for i in range(1, args.runs + 1):
            for tool in tools:
                dest = Path(tempfile.mkdtemp(prefix=f"{tool}-{w.key}-{i}-", dir=work / "dest"))
                logs = work / "logs" / f"{tool}-{w.key}-{i}"
                if tool == "filesync":
                    shutil.rmtree(work / "xdg-cache" / "filesync", ignore_errors=True)
                    r = run_filesync_restore(bin_dir, root, dest, work, logs, len(digests[w.src]))
                else:
                    r = run_rsync(w.src, dest, work, logs, False, w.rsync_flags, pull=True)
                    started = time.perf_counter()
                    os.sync()
                    w.rsync_sync.append(time.perf_counter() - started)
                verify(digests[w.src], dest, f"{tool} {w.key} run {i}")
                w.results[tool].append(r)
                wire = "bytes on wire not reported" if r.wire_bytes is None else f"{r.wire_bytes:,} B on wire"
                print(f"  {w.key:15} {tool:8} run {i}: {r.seconds:8.3f} s, {wire}", flush=True)
                shutil.rmtree(dest)
    scaled = []
    for n in args.scale:
        fill = Workload(f"fill-{n}", f"{n:,} × 64 B, new", None, work / f"src-scale-{n}")
        idle = Workload(f"unchanged-{n}", f"{n:,} unchanged (scaling)", 1.0, fill.src, unchanged=True)
        generate_many(fill.src, n, 64)
        digests[fill.src] = tree_digests(fill.src)
        for i in range(1, args.runs + 1):
            for tool in tools:
                dest = measure(fill, tool, i, record=False)
                measure(idle, tool, i, dest=dest)
                shutil.rmtree(dest)
        scaled.append(idle)
    return [table[row] for row in sorted(rows)] + scaled


# What it costs the disk alone to take the big file durably, timed between the tools' runs: any
# tool that syncs (filesync does, rsync does not) needs at least this long in that phase.
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


def wire_verdict(w: Workload, fs: list[Result], rs: list[Result]) -> str:
    """E.g. 'bytes ≤ 1.5× rsync: 0.98× met' or 'bytes ≤ 1% of file: 100.0% MISSED'."""
    limit, basis = w.wire_target, w.wire_basis
    percent = limit < 1
    text = f"bytes ≤ {limit:.0%} of {w.wire_what}" if percent else f"bytes ≤ {limit:g}× {w.wire_what}"
    if basis is None and rs:
        basis = statistics.median(r.wire_bytes for r in rs)
    if not fs or not basis:
        return text
    value = statistics.median(r.wire_bytes for r in fs) / basis
    got = f"{value:.1%}" if percent else f"{value:.2f}×"
    return f"{text}: {got} {'met' if value <= limit else 'MISSED'}"


def render(workloads: list[Workload], runs: int) -> str:
    def med(rs, attr, fmt):
        vals = [getattr(r, attr) for r in rs if getattr(r, attr) is not None]
        return fmt(statistics.median(vals)) if vals else "–"

    def peak(rs, attr):
        vals = [getattr(r, attr) for r in rs if getattr(r, attr) is not None]
        return f"{max(vals) / 1024:.1f}" if vals else "–"

    lines = [f"- machine: nproc {len(os.sched_getaffinity(0))}, kernel {os.uname().release}",
             f"- rsync: {command_line(['rsync', '--version'])}",
             f"- filesync commit: {command_line(['git', 'rev-parse', '--short', 'HEAD'])}",
             f"- times: median of {runs} client wall-clock runs; RSS: max over runs", "",
             "| workload | filesync s | rsync s | ratio fs/rsync | target | "
             "filesync bytes on wire | rsync bytes on wire | fs client RSS MB | "
             "fs server RSS MB | rsync client RSS MB | rsync daemon RSS MB |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for w in workloads:
        fs, rs = w.results["filesync"], w.results["rsync"]
        ratio, verdict = "–", ""
        if fs and rs:
            value = statistics.median(r.seconds for r in fs) / statistics.median(r.seconds for r in rs)
            ratio = f"{value:.2f}"
            verdict = "" if w.target is None else " met" if value <= w.target else " MISSED"
        targets = [] if w.target is None else [f"≤ {w.target}{verdict}"]
        if w.wire_target is not None:
            targets.append(wire_verdict(w, fs, rs))
        secs, wire = (lambda v: f"{v:.3f}"), (lambda v: f"{int(v):,}")
        lines.append(f"| {w.label} | {med(fs, 'seconds', secs)} | {med(rs, 'seconds', secs)} | "
                     f"{ratio} | {'; '.join(targets)} | {med(fs, 'wire_bytes', wire)} | "
                     f"{med(rs, 'wire_bytes', wire)} | {peak(fs, 'client_rss_kib')} | "
                     f"{peak(fs, 'server_rss_kib')} | {peak(rs, 'client_rss_kib')} | "
                     f"{peak(rs, 'server_rss_kib')} |")
    lines += ["", "Individual runs (s):"]
    for w in workloads:
        for tool in TOOLS:
            if w.results[tool]:
                times = ", ".join(f"{r.seconds:.3f}" for r in w.results[tool])
                lines.append(f"- {w.label} / {tool}: {times}")
    for w in workloads:
        rs = w.results["rsync"]
        for name, times in w.floors.items():
            value = statistics.median(times)
            ratio = f" = {value / statistics.median(r.seconds for r in rs):.2f}× rsync" if rs else ""
            lines.append(f"- {w.label} / disk floor, `{name}`: {', '.join(f'{t:.3f}' for t in times)} "
                         f"(median {value:.3f} s{ratio})")
    for w in workloads:
        fs, rs = w.results["filesync"], w.results["rsync"]
        if fs and rs and w.rsync_sync:
            total = [r.seconds + t for r, t in zip(rs, w.rsync_sync)]
            value = statistics.median(r.seconds for r in fs) / statistics.median(total)
            lines.append(f"- {w.label} / rsync, then `sync` (the writeback rsync leaves to the kernel; "
                         f"filesync's time includes its own): {', '.join(f'{t:.3f}' for t in total)} "
                         f"(median {statistics.median(total):.3f} s; filesync = {value:.2f}× that)")
    lines += ["", "rsync daemon RSS is the daemon's wait4() ru_maxrss, which on Linux also "
              "covers the per-connection children it forked and reaped."]
    return "\n".join(lines) + "\n"


def main() -> int:
    args = parse_args()
    ensure_private_netns()
    become_subreaper()
    tools = [args.only] if args.only else list(TOOLS)
    if shutil.which("rsync") is None and "rsync" in tools:
        raise BenchError("rsync not installed")
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
        report = render(run_benchmark(args, work, tools, bin_dir), args.runs)
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
