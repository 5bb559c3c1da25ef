"""Load benchmark of the `api` starter against a hello-world FastAPI baseline (see bench/load_api.md).

Copies templates/api (or renders it with `riso new` when the starter is absent) into a temp dir, installs
it with its locked versions and riso from this checkout into its own venv, starts its services with
`riso up -d`, migrates, starts the app and bench/hello_app.py with the same uvicorn flags (one worker,
uvloop, httptools, no access log), seeds 20 items, then measures with wrk: for each of 3 interleaved
rounds and each target a 3 s warm-up immediately followed by the measured run. Medians are reported,
with the CPU time the server and Postgres spent per request (steadier than requests/s on a shared
machine). Everything it started is stopped at the end, on failure too.

    python3 bench/load_api.py [--record] [--profile DIR] [--env NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import wrk

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "load_api.results.md"
UVICORN_FLAGS = ["--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
UVICORN_FLAGS += ["--log-level", "warning", "--host", "127.0.0.1"]
# The app's own JSON access log is off like uvicorn's (the baseline logs nothing per request);
# request ids and metrics stay on. `--env ACCESS_LOG=true` measures with it.
APP_ENV = {"ACCESS_LOG": "false"}
SEED_ITEMS = 20
THREADS = 2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BEGIN, END = "<!-- load_api results: begin -->", "<!-- load_api results: end -->"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    server: str  # "app" or "hello"
    path: str
    connections: int


TARGETS = (
    Target("a", "(a) /healthz", "app", "/healthz", 50),
    Target("b", "(b) /items, 20 rows", "app", f"/items?limit={SEED_ITEMS}", 50),
    Target("c", "(c) /readyz", "app", "/readyz", 50),
    Target("d", "(d) hello world", "hello", "/", 50),
    Target("b200", "(b) /items, 20 rows", "app", f"/items?limit={SEED_ITEMS}", 200),
)


@dataclass(frozen=True)
class Run:
    result: wrk.WrkResult
    server_cpu_us: float  # CPU time of the server process per request
    db_cpu_us: float  # CPU time of Postgres (all its processes) per request


@dataclass(frozen=True)
class Summary:
    target: Target
    runs: tuple[Run, ...]

    def median(self, field: str) -> float:
        return float(statistics.median(float(getattr(run.result, field)) for run in self.runs))

    def cpu(self, field: str) -> float:
        return float(statistics.median(float(getattr(run, field)) for run in self.runs))

    @property
    def errors(self) -> int:  # over every round: one error anywhere counts
        return sum(run.result.errors for run in self.runs)

    @property
    def timeouts(self) -> int:
        return sum(run.result.timeouts for run in self.runs)


# --- processes ---------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"error: `{' '.join(argv)}` failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def server(name: str, argv: Sequence[str], cwd: Path, env: Mapping[str, str], logs: Path) -> Iterator[int]:
    """A server process in its own session, stopped (SIGTERM, then SIGKILL) when the block ends."""
    with (logs / f"{name}.log").open("w") as out:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def wait_http(url: str, logfile: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    tail = "\n".join(logfile.read_text().splitlines()[-15:])
    raise SystemExit(f"error: {url} did not answer 200 within {timeout:g}s; last log lines:\n{tail}")


def http(method: str, url: str, body: object | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of a process (0 once it is gone), with that of its reaped children if asked."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = slice(11, 15) if children else slice(11, 13)  # utime stime [cutime cstime]
    return sum(int(value) for value in fields[used]) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server and all its children, those alive now and those it has reaped.

    Postgres forks a process per connection: one that exits mid-run moves from the live sum into
    the postmaster's reaped-children time, so differences of this stay right.
    """
    listed = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return cpu_seconds(pid, children=True) + sum(cpu_seconds(int(child)) for child in listed.split())


# --- the project -------------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    """This environment without service URLs or a venv of the caller's."""
    drop = ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_URL", "GRAFANA_URL", "VIRTUAL_ENV", "RISO_PLAN")
    return {key: value for key, value in os.environ.items() if key not in drop and not key.startswith("PG")}


def prepare(work: Path, render: bool) -> Path:
    """The api starter as committed in templates/api, or rendered from the checkout's blueprint.

    A rendered project takes the starter's poetry.lock when there is one, so both install the same
    versions; it is rendered also when the starter is absent.
    """
    project = work / "api"
    starter = ROOT / "templates" / "api"
    if (starter / "pyproject.toml").is_file() and not render:
        shutil.copytree(starter, project, ignore=shutil.ignore_patterns(".venv", ".riso", "__pycache__"))
        return project
    riso = [sys.executable, "-m", "riso"]
    run([*riso, "new", str(project), "--template", "api", "--defaults", "--no-git"], work, base_env())
    if (starter / "poetry.lock").is_file():
        shutil.copy2(starter / "poetry.lock", project / "poetry.lock")
    return project


def locked(lock: Path) -> list[str]:
    from riso.matrix import locked_requirements  # type: ignore[import-untyped]  # the matrix reads Poetry 2 locks

    requirements: list[str] = locked_requirements(lock)
    return requirements


def install(project: Path) -> Path:
    """A venv in the project: the project (editable) at its locked versions, riso from this checkout."""
    venv = project / ".venv"
    python = venv / "bin" / "python"
    if shutil.which("uv"):
        run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], project)
        pip = ["uv", "pip", "install", "--quiet", "--python", str(python)]
    else:
        run([sys.executable, "-m", "venv", str(venv)], project)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
    lock = project / "poetry.lock"
    if lock.is_file():
        run([*pip, "--no-deps", "-e", str(project), *locked(lock)], project, base_env())
    else:
        run([*pip, "-e", str(project)], project, base_env())
    run([*pip, "-e", str(ROOT)], project, base_env())
    return venv / "bin"


def riso_env(bin_dir: Path, project: Path) -> dict[str, str]:
    text = run([str(bin_dir / "riso"), "env", "--dotenv"], project, base_env())
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip().strip("'\"") for name, value in pairs}


@contextlib.contextmanager
def services(bin_dir: Path, project: Path) -> Iterator[dict[str, str]]:
    """`riso up -d` (Grafana may be absent here), and `riso down --volumes` whatever happens."""
    riso = str(bin_dir / "riso")
    try:
        run([riso, "up", "-d", "--allow-missing"], project, base_env())
        yield riso_env(bin_dir, project)
    finally:
        subprocess.run([riso, "down", "--volumes"], cwd=project, env=base_env(), capture_output=True, timeout=120)


def postgres_pid(project: Path) -> int | None:
    """The Postgres server riso started (read from riso's state in the project; None if unknown)."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads((project / ".riso" / "run" / "postgres.pid").read_text())["pid"])
    return None


def package_name(project: Path) -> str:
    return next(path.parent.name for path in (project / "src").glob("*/main.py"))


def seed(base_url: str) -> None:
    for number in range(SEED_ITEMS):
        status, body = http("POST", f"{base_url}/items", {"name": f"item {number}", "description": "seeded"})
        if status != 201:
            raise SystemExit(f"error: seeding item {number} answered {status}: {body}")
    status, body = http("GET", f"{base_url}/items?limit={SEED_ITEMS}")
    if status != 200 or not isinstance(body, list) or len(body) != SEED_ITEMS:
        raise SystemExit(f"error: the items list answered {status} with {body!r:.200}")
    status, body = http("GET", f"{base_url}/readyz")
    if status != 200:
        raise SystemExit(f"error: /readyz answered {status}: {body}")


# --- measuring ---------------------------------------------------------------------------------


def measure_one(url: str, target: Target, seconds: int, warmup: int, server_pid: int, db_pid: int | None) -> Run:
    def db() -> float:
        return tree_cpu_seconds(db_pid) if db_pid else 0.0

    wrk.run(url, target.connections, warmup, THREADS)  # warm-up, then the measured run with no pause
    before = cpu_seconds(server_pid), db()
    result = wrk.run(url, target.connections, seconds, THREADS)
    after = cpu_seconds(server_pid), db()
    requests = max(result.requests_per_s * seconds, 1)
    return Run(result, 1e6 * (after[0] - before[0]) / requests, 1e6 * (after[1] - before[1]) / requests)


def measure(
    urls: Mapping[str, str],
    pids: Mapping[str, int],
    db_pid: int | None,
    rounds: int,
    seconds: int,
    warmup: int,
) -> list[Summary]:
    runs: dict[str, list[Run]] = {target.key: [] for target in TARGETS}
    for number in range(1, rounds + 1):
        for target in TARGETS:
            url = urls[target.server] + target.path
            measured = measure_one(url, target, seconds, warmup, pids[target.server], db_pid)
            runs[target.key].append(measured)
            result = measured.result
            log(
                f"round {number} {target.label} c={target.connections}: {result.requests_per_s:.0f} req/s, "
                f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors}, "
                f"timeouts {result.timeouts}, server CPU {measured.server_cpu_us:.0f} us/request"
            )
    return [Summary(target, tuple(runs[target.key])) for target in TARGETS]


def profile(pid: int, url: str, seconds: int, out: Path) -> str:
    """py-spy samples the app while wrk loads `url`: a flame graph, the folded stacks and a summary."""
    out.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("error: --profile needs py-spy: `pip install py-spy`")
    wrk.run(url, 50, 3, THREADS)
    for fmt, name in (("raw", "items.folded"), ("flamegraph", "items.svg")):
        argv = [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250", "--nonblocking"]
        sampler = subprocess.Popen([*argv, "--format", fmt, "--output", str(out / name)], stdout=subprocess.DEVNULL)
        wrk.run(url, 50, seconds, THREADS)
        sampler.wait(timeout=seconds + 60)
    log(f"profile of {url} in {out}/items.folded and items.svg")
    return summarise(out / "items.folded")


def summarise(folded: Path, top: int = 12) -> str:
    """Where the server's samples go: by package, and the frames with the most own time.

    All threads count (the app runs everything on the event loop's); py-spy leaves idle samples out.
    """
    own: collections.Counter[str] = collections.Counter()
    packages: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = re.sub(r":\d+\)$", ")", stack.split(";")[-1]).strip() or "(no Python frame)"
        samples += int(count)
        own[leaf] += int(count)
        where = re.search(r"\(([^/)]+)/", leaf)  # "(sqlalchemy/orm/base.py)" -> sqlalchemy
        packages[where.group(1) if where else "single-file modules and native code"] += int(count)
    if not samples:
        return "no samples"
    lines = [f"{samples} samples (idle time excluded); own time by package:"]
    lines += [f"    {100 * n / samples:5.1f}%  {name}" for name, n in packages.most_common(top)]
    lines.append("own time by frame:")
    lines += [f"    {100 * n / samples:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


# --- reporting ---------------------------------------------------------------------------------


def table(summaries: Sequence[Summary]) -> str:
    by_key = {summary.target.key: summary for summary in summaries}
    hello = by_key["d"].median("requests_per_s")
    lines = [
        "| target | conns | requests/s | vs (d) | p50 ms | p99 ms | errors | timeouts | server CPU | Postgres CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for summary in summaries:
        rps = summary.median("requests_per_s")
        lines.append(
            f"| {summary.target.label} | {summary.target.connections} | {rps:,.0f} | {rps / hello:.3f} "
            f"| {summary.median('p50_ms'):.2f} | {summary.median('p99_ms'):.2f} | {summary.errors} "
            f"| {summary.timeouts} | {summary.cpu('server_cpu_us'):.0f} us | {summary.cpu('db_cpu_us'):.0f} us |"
        )
    return "\n".join(lines)


def per_round(summaries: Sequence[Summary]) -> str:
    """Each round's ratios to the baseline run next to it (the verdicts use the ratios of the medians)."""
    by_key = {summary.target.key: summary for summary in summaries}
    hello = [run.result.requests_per_s for run in by_key["d"].runs]
    parts = []
    for key, name in (("a", "a/d"), ("b", "b/d"), ("c", "c/d"), ("b200", "b/d at 200")):
        ratios = (run.result.requests_per_s / base for run, base in zip(by_key[key].runs, hello, strict=True))
        parts.append(f"{name} " + ", ".join(f"{ratio:.3f}" for ratio in ratios))
    return "Per round: " + "; ".join(parts) + "."


def verdicts(summaries: Sequence[Summary]) -> list[tuple[bool, str]]:
    by_key = {summary.target.key: summary for summary in summaries}
    rps = {key: summary.median("requests_per_s") for key, summary in by_key.items()}
    b, b200 = by_key["b"], by_key["b200"]
    checks = [
        (rps["a"] >= 0.8 * rps["d"], f"a/d = {rps['a'] / rps['d']:.2f} (target >= 0.80)"),
        (rps["b"] >= 0.15 * rps["d"], f"b/d = {rps['b'] / rps['d']:.3f} (target >= 0.15)"),
        (b.median("p99_ms") < 100, f"(b) p99 at 50 connections = {b.median('p99_ms'):.1f} ms (target < 100)"),
        (b200.errors + b200.timeouts == 0, f"(b) at 200 connections: {b200.errors} errors, {b200.timeouts} timeouts"),
        (b200.median("p99_ms") < 500, f"(b) p99 at 200 connections = {b200.median('p99_ms'):.1f} ms (target < 500)"),
        (rps["c"] >= 0.5 * rps["a"], f"c/a = {rps['c'] / rps['a']:.2f} (target >= 0.50)"),
        (True, f"c/d = {rps['c'] / rps['d']:.2f}"),
    ]
    return [(ok, f"{'met' if ok else 'MISSED'}: {text}") for ok, text in checks]


def versions(bin_dir: Path) -> str:
    names = ["fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools", "sqlalchemy", "asyncpg"]
    code = "import importlib.metadata as m, sys; print(', '.join(f'{n} {m.version(n)}' for n in sys.argv[1:]))"
    return run([str(bin_dir / "python"), "-c", code, *names], ROOT).strip()


def machine() -> str:
    models = [
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    ]
    cpu = models[0] if models else platform.processor() or "unknown CPU"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, load average {load} at the end"


def git_commit(measured: str) -> str:
    """HEAD, and whether what was measured (a folder of the checkout) differs from it."""

    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    dirty = git("status", "--porcelain", "--", measured)
    return git("rev-parse", "--short", "HEAD") + (f" ({measured} with uncommitted changes)" if dirty else "")


def report(summaries: Sequence[Summary], args: argparse.Namespace, bin_dir: Path, settings: Mapping[str, str]) -> str:
    shown = " ".join(f"{name}={value}" for name, value in settings.items())
    commit = git_commit("src/riso/blueprint" if args.render else "templates/api")
    lines = [
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC at commit {commit}: "
        f"`python3 bench/load_api.py{' ' + ' '.join(args.argv) if args.argv else ''}`",
        "",
        f"{args.rounds} interleaved rounds of `wrk -t{THREADS} -c<conns> -d{args.seconds}s --latency`, each right "
        f"after a {args.warmup} s warm-up; medians over the rounds; errors and timeouts summed over the rounds; "
        "CPU time per request of the server process and of Postgres. "
        f"Uvicorn `{' '.join(UVICORN_FLAGS)}` for both servers; app settings: `{shown}`.",
        "",
        f"Machine: {machine()}. Python {platform.python_version()}; {versions(bin_dir)}.",
        "",
        table(summaries),
        "",
        per_round(summaries),
        "",
        *(f"- {text}" for _, text in verdicts(summaries)),
    ]
    return "\n".join(lines)


def record(text: str) -> None:
    current = RESULTS.read_text() if RESULTS.is_file() else f"# Load benchmark results\n\n{BEGIN}\n{END}\n"
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    RESULTS.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    log(f"recorded in {RESULTS.relative_to(ROOT)}")


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15, help="length of each measured run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up before each measured run")
    parser.add_argument("--record", action="store_true", help=f"write the results into {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--profile", type=Path, help="also profile the items list with py-spy into this folder")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="an app setting")
    parser.add_argument(
        "--render",
        action="store_true",
        help="render the api starter from the blueprint instead of copying templates/api",
    )
    parser.add_argument("--keep", type=Path, help="keep the project, venv and logs in this new folder")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    bad = [item for item in args.env if "=" not in item]
    if bad:
        parser.error(f"--env {bad[0]}: expected NAME=VALUE")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("error: wrk is not installed: `apt-get install wrk`")
    settings = {**APP_ENV, **dict(item.split("=", 1) for item in args.env)}
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True)
            work = args.keep.resolve()
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="riso-load-")))
        log(f"preparing the api starter in {work}")
        project = prepare(work, args.render)
        bin_dir = install(project)
        log("starting its services: riso up -d")
        env = {**base_env(), **stack.enter_context(services(bin_dir, project))}
        run([str(bin_dir / "alembic"), "upgrade", "head"], project, env)
        ports = {"app": free_port(), "hello": free_port()}
        uvicorn = [str(bin_dir / "python"), "-m", "uvicorn", *UVICORN_FLAGS]
        app_argv = [*uvicorn, "--port", str(ports["app"]), "--factory", f"{package_name(project)}.main:create_app"]
        hello_argv = [*uvicorn, "--port", str(ports["hello"]), "--app-dir", str(BENCH), "hello_app:app"]
        pids = {
            "app": stack.enter_context(server("app", app_argv, project, {**env, **settings}, work)),
            "hello": stack.enter_context(server("hello", hello_argv, project, base_env(), work)),
        }
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        wait_http(urls["app"] + "/healthz", work / "app.log")
        wait_http(urls["hello"] + "/", work / "hello.log")
        seed(urls["app"])
        log(f"measuring: {args.rounds} rounds x {len(TARGETS)} targets x ({args.warmup} + {args.seconds}) s")
        summaries = measure(urls, pids, postgres_pid(project), args.rounds, args.seconds, args.warmup)
        text = report(summaries, args, bin_dir, settings)
        if args.profile:
            summary = profile(pids["app"], urls["app"] + TARGETS[1].path, args.seconds, args.profile.resolve())
            text += f"\n\nProfile of (b) at 50 connections (py-spy, {args.seconds} s):\n\n```\n{summary}\n```"
    print(text)
    if args.record:
        record(text)
    return 0 if all(ok for ok, _ in verdicts(summaries)) else 3


if __name__ == "__main__":
    sys.exit(main())
