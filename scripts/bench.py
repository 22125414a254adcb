#!/usr/bin/env python3
"""Benchmark filesync against rsync (daemon mode) on 127.0.0.1.

Generates reproducible data (seed 42) once, then runs each workload --runs
times per tool, alternating tools, each "new" run into a fresh, never-used
destination folder. Every run is verified by SHA-256 of the whole tree
(untimed). Prints a Markdown table of median client wall-clock times, bytes on
the wire and peak RSS, and writes it to WORK/bench.md (and --out FILE).

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
TOOLS = ("filesync", "rsync")
READY_RE = re.compile(r"listening on ([0-9.]+):([0-9]+)")
PR_SET_CHILD_SUBREAPER = 36


class BenchError(Exception):
    """Any failure that must abort the benchmark."""


@dataclasses.dataclass
class Result:
    seconds: float
    wire_bytes: int
    client_rss_kib: int
    server_rss_kib: int


@dataclasses.dataclass
class Workload:
    key: str
    label: str
    target: float
    src: Path
    results: dict = dataclasses.field(default_factory=lambda: {t: [] for t in TOOLS})


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin-dir", type=Path, help="dir with filesync-server/-client "
                   "(default: `swift build -c release --show-bin-path`)")
    p.add_argument("--work", type=Path, help="work dir (default: fresh dir under /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the default work dir")
    p.add_argument("--runs", type=int, default=3, help="runs per workload and tool")
    p.add_argument("--big-size", type=int, default=1 << 30, help="bytes of the big file")
    p.add_argument("--many-count", type=int, default=20000, help="number of 4 KiB files")
    p.add_argument("--only", choices=TOOLS, help="benchmark only one tool")
    p.add_argument("--out", type=Path, help="also write the report to this file")
    args = p.parse_args()
    if args.runs < 1 or args.big_size < 1 or args.many_count < 1:
        p.error("--runs, --big-size and --many-count must be positive")
    return args


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


def generate_big(dest: Path, size: int) -> None:
    rng = random.Random(SEED)
    dest.mkdir(parents=True)
    with open(dest / "big.bin", "wb") as f:
        for off in range(0, size, CHUNK):
            f.write(rng.randbytes(min(CHUNK, size - off)))


def generate_many(dest: Path, count: int) -> None:
    """Files i -> dNN/sN/fNNN.bin: 100 files per subdir, 10 subdirs per top dir."""
    rng = random.Random(SEED)
    for i in range(count):
        d = dest / f"d{i // 1000:02d}" / f"s{i // 100 % 10}"
        if i % 100 == 0:
            d.mkdir(parents=True)
        (d / f"f{i % 100:03d}.bin").write_bytes(rng.randbytes(FILE_SIZE))


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
                 unchanged: bool) -> Result:
    pid, reader, addr = start_filesync_server(bin_dir, dest_root, work, logs)
    try:
        cmd = [str(bin_dir / "filesync-client"), "--source", str(src), "--id", "bench",
               "--secret-file", str(work / "server.secret"), "--key-file", str(work / "client.key"),
               "--server", addr, "--json"]
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


def run_rsync(src: Path, dest: Path, work: Path, logs: Path, unchanged: bool) -> Result:
    conf = logs.with_suffix(".rsyncd.conf")
    ids = "uid = root\ngid = root\n" if os.geteuid() == 0 else ""
    conf.write_text(f"use chroot = no\n[dest]\npath = {dest}\nread only = false\n{ids}")
    port = free_port()
    with open(logs.with_suffix(".daemon.out"), "wb") as out:
        daemon = spawn(["rsync", "--daemon", "--no-detach", f"--config={conf}", f"--port={port}",
                        "--address=127.0.0.1", f"--log-file={work / 'rsyncd.log'}"], out, out)
    try:
        wait_for_port(daemon, port, logs.with_suffix(".daemon.out"))
        cmd = ["rsync", "-a", "--stats", f"{src}/", f"rsync://127.0.0.1:{port}/dest/"]
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
    count = args.many_count
    big = Workload("big", f"{human_size(args.big_size)} incompressible, new", 0.6, work / "src-big")
    many = Workload("many", f"{count:,} × 4 KiB, new", 0.8, work / "src-many")
    same = Workload("many-unchanged", f"{count:,} unchanged", 1.0, many.src)
    print(f"generating data in {work} ...", flush=True)
    generate_big(big.src, args.big_size)
    generate_many(many.src, count)
    digests = {w.src: tree_digests(w.src) for w in (big, many)}
    (work / "dest").mkdir()
    (work / "logs").mkdir()

    def measure(w: Workload, tool: str, i: int, dest: Path | None = None) -> Path:
        """One timed run; a fresh destination unless `dest` (unchanged run) is given."""
        dest = dest or Path(tempfile.mkdtemp(prefix=f"{tool}-{w.key}-{i}-", dir=work / "dest"))
        logs = work / "logs" / f"{tool}-{w.key}-{i}"
        unchanged = w is same
        if tool == "filesync":
            r = run_filesync(bin_dir, w.src, dest, work, logs, unchanged)
            verify(digests[w.src], dest / "bench", f"filesync {w.key} run {i}")
        else:
            r = run_rsync(w.src, dest, work, logs, unchanged)
            verify(digests[w.src], dest, f"rsync {w.key} run {i}")
        w.results[tool].append(r)
        print(f"  {w.key:15} {tool:8} run {i}: {r.seconds:8.3f} s, {r.wire_bytes:,} B on wire",
              flush=True)
        return dest

    for i in range(1, args.runs + 1):
        for tool in tools:
            measure(big, tool, i)
    for i in range(1, args.runs + 1):
        for tool in tools:
            measure(same, tool, i, dest=measure(many, tool, i))
    return [big, many, same]


def command_line(cmd: list[str], cwd: Path = REPO) -> str:
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout
        return out.splitlines()[0].strip()
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def render(workloads: list[Workload], runs: int) -> str:
    def med(rs, attr, fmt):
        return fmt(statistics.median(getattr(r, attr) for r in rs)) if rs else "–"

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
            ratio, verdict = f"{value:.2f}", " met" if value <= w.target else " MISSED"
        secs, wire = (lambda v: f"{v:.3f}"), (lambda v: f"{int(v):,}")
        lines.append(f"| {w.label} | {med(fs, 'seconds', secs)} | {med(rs, 'seconds', secs)} | "
                     f"{ratio} | ≤ {w.target}{verdict} | {med(fs, 'wire_bytes', wire)} | "
                     f"{med(rs, 'wire_bytes', wire)} | {peak(fs, 'client_rss_kib')} | "
                     f"{peak(fs, 'server_rss_kib')} | {peak(rs, 'client_rss_kib')} | "
                     f"{peak(rs, 'server_rss_kib')} |")
    lines += ["", "Individual runs (s):"]
    for w in workloads:
        for tool in TOOLS:
            if w.results[tool]:
                times = ", ".join(f"{r.seconds:.3f}" for r in w.results[tool])
                lines.append(f"- {w.label} / {tool}: {times}")
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
        bin_dir = Path(command_line(["swift", "build", "-c", "release", "--show-bin-path"]))
    for exe in ("filesync-server", "filesync-client") if "filesync" in tools else ():
        if not os.access(bin_dir / exe, os.X_OK):
            raise BenchError(f"{bin_dir / exe} not found; build with swift build -c release")
    owned = args.work is None
    work = Path(tempfile.mkdtemp(prefix="filesync-bench-", dir="/tmp")) if owned else args.work
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()) and not owned:
        raise BenchError(f"--work {work} must be empty or not exist")
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
