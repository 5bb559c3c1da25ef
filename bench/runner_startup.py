"""Benchmark: `riso up -d` for Postgres + Redis against starting them by hand, in one run.

    python bench/runner_startup.py [--rounds 7] [--out bench/runner_startup.results.md]

Four scenarios, interleaved round by round (so machine load hits all of them alike):
  riso cold   `riso up -d` in a fresh project (features database + cache): initdb, both servers, hooks
  riso warm   `riso up -d` again after `riso down` (data kept)
  raw cold    initdb + pg_ctl start -w + redis-server + PING, with the flags the plan gives riso
  raw warm    pg_ctl start -w + redis-server + PING on the data left by raw cold
  (also reported: raw cold + the `CREATE DATABASE app` riso's plan runs as a hook, timed right after)
Each riso sample is the wall time of the whole CLI process (interpreter start and imports included).
As root, the raw Postgres commands run as the same unprivileged user riso drops to.
Writes a markdown report (medians, ratios, targets) to --out.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riso import config, plan
from riso.plan_model import Service
from riso.runner import process
from riso.runner.placeholders import Context

FEATURES = ["database", "cache"]
MANIFEST = '[project]\nname = "bench"\nversion = "0.1.0"\n\n[tool.riso]\nfeatures = ["database", "cache"]\n'
SCRIPT = Path(sys.executable).with_name("riso")
RISO = str(SCRIPT) if SCRIPT.exists() else (shutil.which("riso") or "riso")
COLD_RATIO_TARGET = 1.3
WARM_TARGET = 0.5
# The modules `riso up` itself needs; `import riso.cli` also loads every other command group.
UP_NEEDS = "import typer, rich.console, rich.markup, riso.config, riso.plan, riso.runner"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def run_riso(args: list[str], cwd: Path) -> float:
    begun = time.perf_counter()
    done = subprocess.run([RISO, *args], cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - begun
    if done.returncode != 0:
        raise SystemExit(f"riso {' '.join(args)} failed in {cwd}:\n{done.stdout}{done.stderr}")
    return elapsed


# --- the raw baseline --------------------------------------------------------------------------


@dataclass
class Raw:
    """Postgres and Redis started by hand in `folder` with the plan's own flags."""

    folder: Path
    postgres: Service
    redis: Service
    user: process.Credentials | None
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    redis_proc: subprocess.Popen[bytes] | None = None

    def ctx(self, svc: Service, port: int, data_dir: Path, socket_dir: Path | None) -> Context:
        ports = {self.postgres.name: self.pg_port, self.redis.name: self.redis_port}
        base = Context(
            service=svc.name,
            root=str(self.folder),
            state=str(self.folder),
            run=str(self.folder),
            logs=str(self.folder),
            ports=ports,
            binaries=svc.binaries,
        )
        return base.with_dirs(str(data_dir), str(socket_dir) if socket_dir else None)

    @property
    def pg_data(self) -> Path:
        return self.folder / "pg"

    @property
    def pg_ctx(self) -> Context:
        return self.ctx(self.postgres, self.pg_port, self.pg_data, self.folder / "sock")

    def _as_user(self) -> dict[str, Any]:
        return self.user.popen_kwargs() if self.user else {}

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl = self.postgres.binaries["pg_ctl"]
        assert pg_ctl is not None
        subprocess.run(
            [pg_ctl, *args, "-D", str(self.pg_data)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self._as_user(),
        )

    def prepare(self) -> None:
        """Untimed: the folders initdb writes into, owned like riso's."""
        for folder in (self.pg_data, self.folder / "sock", self.folder / "redis"):
            folder.mkdir(mode=0o700)
            if self.user:
                os.chown(folder, self.user.uid, self.user.gid)
        (self.folder / "pg.log").touch()
        if self.user:
            os.chown(self.folder / "pg.log", self.user.uid, self.user.gid)

    def start(self, cold: bool) -> None:
        """Timed: what a person would type, in order."""
        ctx = self.pg_ctx
        if cold:
            for step in self.postgres.init:
                subprocess.run(ctx.expand_all(step), check=True, stdout=subprocess.DEVNULL, **self._as_user())
        server = ctx.expand_all(self.postgres.start)
        options = server[server.index("-D") + 2 :]
        self._pg_ctl("start", "-w", "-l", str(self.folder / "pg.log"), "-o", shlex.join(options))
        redis_ctx = self.ctx(self.redis, self.redis_port, self.folder / "redis", None)
        with (self.folder / "redis.log").open("ab") as log:
            self.redis_proc = subprocess.Popen(
                redis_ctx.expand_all(self.redis.start), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        delay = 0.005
        while not redis_ping(self.redis_port):
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    def create_database(self, name: str) -> None:
        """What riso's `create_database` hook does, through psql on the socket."""
        psql = self.postgres.binaries["psql"]
        assert psql is not None
        socket_dir = str(self.folder / "sock")
        argv = [psql, "-X", "-q", "-h", socket_dir, "-p", str(self.pg_port), "-U", "postgres", "-d", "postgres"]
        subprocess.run([*argv, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)

    def stop(self) -> None:
        if (self.pg_data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", "fast")
        if self.redis_proc and self.redis_proc.poll() is None:
            self.redis_proc.send_signal(signal.SIGTERM)
            self.redis_proc.wait(30)


# --- scenarios ---------------------------------------------------------------------------------


def raw_round(base: Path, services: dict[str, Service], user: process.Credentials | None) -> tuple[float, float, float]:
    folder = Path(tempfile.mkdtemp(prefix="raw-", dir=base))
    folder.chmod(0o755)
    raw = Raw(folder, services["postgres"], services["redis"], user)
    raw.prepare()
    try:
        begun = time.perf_counter()
        raw.start(cold=True)
        cold = time.perf_counter() - begun
        raw.create_database("app")
        with_database = time.perf_counter() - begun
        raw.stop()
        begun = time.perf_counter()
        raw.start(cold=False)
        warm = time.perf_counter() - begun
    finally:
        raw.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return cold, with_database, warm


def riso_round(base: Path) -> tuple[float, float]:
    folder = Path(tempfile.mkdtemp(prefix="riso-", dir=base))
    folder.chmod(0o755)
    (folder / "pyproject.toml").write_text(MANIFEST, encoding="utf-8")
    try:
        cold = run_riso(["up", "-d"], folder)
        run_riso(["down"], folder)
        warm = run_riso(["up", "-d"], folder)
    finally:
        subprocess.run([RISO, "down", "--volumes"], cwd=folder, capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
    return cold, warm


def timed(argv: list[str]) -> float:
    """Wall time of a bare command (what every riso sample pays before riso's own work)."""
    begun = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - begun


# --- report ------------------------------------------------------------------------------------


def row(name: str, samples: list[float]) -> str:
    shown = " ".join(f"{s:.3f}" for s in samples)
    return f"| {name} | {statistics.median(samples):.3f} | {min(samples):.3f} | {max(samples):.3f} | {shown} |"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(results: dict[str, list[float]], floors: dict[str, list[float]], command: str, load: tuple[str, str]) -> str:
    med = {k: statistics.median(v) for k, v in results.items()}

    def per_round(values: Iterable[float]) -> float:
        return statistics.median(values)

    def paired(top: str, bottom: str) -> float:
        return per_round(a / b for a, b in zip(results[top], results[bottom], strict=True))

    cli, needed = floors["-c 'import riso.cli'"], floors[f"-c '{UP_NEEDS}'"]
    extra = [max(c - n, 0.0) for c, n in zip(cli, needed, strict=True)]
    own_warm = per_round(w - c for w, c in zip(results["riso warm"], cli, strict=True))
    lean_warm = per_round(w - e for w, e in zip(results["riso warm"], extra, strict=True))
    lean_cold = per_round((r - e) / b for r, e, b in zip(results["riso cold"], extra, results["raw cold"], strict=True))
    cold_ratio = med["riso cold"] / med["raw cold"]
    pg_version = subprocess.run(
        [str(services_plan()["postgres"].binaries["postgres"]), "--version"], capture_output=True, text=True
    ).stdout.strip()
    who = "root (Postgres as the unprivileged service user)" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    py = Path(sys.executable).name
    lines = [
        "# riso up: startup benchmark results",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M:%S %Z')}.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"load average {load[0]} before, {load[1]} after",
        f"- Python {platform.python_version()} ({sys.executable}); {pg_version}; running as {who}",
        f"- rounds: {len(results['riso cold'])}, interleaved (raw first in even rounds, riso first in odd ones); "
        "the import costs below are sampled in the same rounds",
        "",
        "| scenario | median s | min s | max s | samples s |",
        "| --- | --- | --- | --- | --- |",
        *(row(name, samples) for name, samples in results.items()),
        *(row(f"`{py} {name}`", samples) for name, samples in floors.items()),
        "",
        f"- cold: riso / raw = {cold_ratio:.2f} "
        f"(target <= {COLD_RATIO_TARGET}: {verdict(cold_ratio <= COLD_RATIO_TARGET)}); "
        f"median of per-round ratios {paired('riso cold', 'raw cold'):.2f}",
        f"- cold, like for like (riso's plan also creates the `app` database; `raw cold + createdb` adds "
        f"that `CREATE DATABASE` to the baseline): riso / raw = {med['riso cold'] / med['raw cold + createdb']:.2f}; "
        f"per round {paired('riso cold', 'raw cold + createdb'):.2f}",
        f"- warm: riso median {med['riso warm']:.3f} s (target < {WARM_TARGET} s: "
        f"{verdict(med['riso warm'] < WARM_TARGET)}); riso / raw = {med['riso warm'] / med['raw warm']:.2f}",
        "",
        "Every riso sample includes `import riso.cli`, which loads every command group. Per round:",
        "",
        f"- riso warm minus `import riso.cli`: {own_warm:.3f} s (the runner's own work, with interpreter start)",
        f"- if `riso.cli` imported only what `riso up` needs (`{UP_NEEDS}`): warm ~{lean_warm:.3f} s, "
        f"cold ratio ~{lean_cold:.2f}",
        "",
    ]
    return "\n".join(lines)


def services_plan() -> dict[str, Service]:
    the_plan = plan.build(config.parse(tomllib.loads(MANIFEST)))
    return {s.name: s for s in the_plan.services}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("runner_startup.results.md"))
    args = parser.parse_args()
    command = "python bench/runner_startup.py " + " ".join(sys.argv[1:])
    services = services_plan()
    user = process.service_user() if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="riso-bench-"))
    base.chmod(0o755)
    results: dict[str, list[float]] = {
        "riso cold": [],
        "raw cold": [],
        "raw cold + createdb": [],
        "riso warm": [],
        "raw warm": [],
    }
    floor_commands = {
        "-c pass": [sys.executable, "-c", "pass"],
        "-c 'import riso.cli'": [sys.executable, "-c", "import riso.cli"],
        f"-c '{UP_NEEDS}'": [sys.executable, "-c", UP_NEEDS],
    }
    floors: dict[str, list[float]] = {name: [] for name in floor_commands}
    load_before = f"{os.getloadavg()[0]:.2f}"
    try:
        for number in range(args.rounds):
            order: list[Callable[[], None]] = []

            def do_raw() -> None:
                cold, with_database, warm = raw_round(base, services, user)
                results["raw cold"].append(cold)
                results["raw cold + createdb"].append(with_database)
                results["raw warm"].append(warm)

            def do_riso() -> None:
                cold, warm = riso_round(base)
                results["riso cold"].append(cold)
                results["riso warm"].append(warm)

            order = [do_raw, do_riso] if number % 2 == 0 else [do_riso, do_raw]
            for step in order:
                step()
            for name, argv in floor_commands.items():
                floors[name].append(timed(argv))
            print(
                f"round {number + 1}: " + ", ".join(f"{name} {samples[-1]:.3f}s" for name, samples in results.items()),
                flush=True,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    text = report(results, floors, command, (load_before, f"{os.getloadavg()[0]:.2f}"))
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
