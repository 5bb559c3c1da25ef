"""Task queues for the `tasks` feature, candidate against candidate, in one run against one local Redis.

    python bench/task_queues.py [--rounds 3] [--latency-jobs 50] [--throughput-jobs 150]
        [--python arq=/path/to/venv/bin/python] [--python saq=...] [--only celery,arq,saq,taskiq] [--no-write]

Candidates: Celery (prefork pool, Redis broker and result backend), arq, SAQ and taskiq with taskiq-redis
(RedisStreamBroker, the taskiq-redis broker that acknowledges messages). Their Redis client pins do not
fit one environment (arq: redis<6, SAQ: redis<8, taskiq-redis: redis>=8), so each candidate's clients
and workers run under the interpreter given by --python NAME=PATH (default: this interpreter).

It starts one redis-server on a free loopback port with a temporary directory (stopped at the end) and,
in interleaved rounds (the machine's 1-minute load average recorded per round), per candidate:
  - starts a worker with the library's CLI and default concurrency, measures the time to its first job,
    then the enqueue-to-completion latency of N trivial jobs enqueued one at a time (each awaited),
  - throughput with one worker process: M trivial jobs and M jobs that await a 20 ms sleep, enqueued back
    to back, until all have run; then the same with concurrency 10.
Once per candidate after the rounds: SIGKILL of the worker's process group while a 2 s job runs, a new
worker started, and whether (and when) the job runs again; a job failing twice then succeeding (retry
delays observed); and the same job id enqueued twice (deduplicated or run twice).
Results go between the markers in bench/task_queues.md and, raw, to bench/results/task_queues.json.

This file is also the candidates' task module (imported by their worker CLIs as `task_queues`) and
their client (`task_queues.py client LIB PHASE ...`, printing one JSON line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPORT = HERE / "task_queues.md"
RAW = HERE / "results" / "task_queues.json"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
LIBS = ("celery", "arq", "saq", "taskiq")
SLEEP_JOB_S = 0.02
KILL_JOB_S = 2.0
KILL_WAIT_S = 30.0

URL = os.environ.get("TQ_URL", "redis://127.0.0.1:6379/0")
CONC = os.environ.get("TQ_CONC", "")  # empty: the library's default
MODE = os.environ.get("TQ_MODE", "default")  # "alo": the settings each library documents for redelivery

# ---------------------------------------------------------------------------------------------------------
# Job bodies shared by every candidate: a counter, attempt timestamps, a sleep.


def _sync_redis() -> Any:
    import redis

    return redis.Redis.from_url(URL)


def _async_redis() -> Any:
    import redis.asyncio

    return redis.asyncio.Redis.from_url(URL)


_AREDIS: Any = None


def _ar() -> Any:
    global _AREDIS
    if _AREDIS is None:
        _AREDIS = _async_redis()
    return _AREDIS


async def tick_body(key: str, sleep_s: float) -> int:
    if sleep_s:
        await asyncio.sleep(sleep_s)
    if key:
        await _ar().incr(key)
    return 1


async def slow_body(key: str) -> int:
    await _ar().rpush(f"{key}:attempts", time.time())
    await asyncio.sleep(KILL_JOB_S)
    await _ar().set(f"{key}:done", time.time())
    return 1


async def flaky_body(key: str) -> int:
    n = await _ar().rpush(f"{key}:attempts", time.time())
    if n < 3:
        raise RuntimeError(f"attempt {n} fails on purpose")
    return n


# ---------------------------------------------------------------------------------------------------------
# Candidates' apps, built lazily (module __getattr__) so each venv imports only its own library.

_BUILT: dict[str, Any] = {}


def _celery_app() -> Any:
    from celery import Celery

    app = Celery("task_queues", broker=URL, backend=URL)
    app.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)
    if MODE == "alo":  # documented at-least-once settings, with a short visibility timeout to stay bounded
        app.conf.update(
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            broker_transport_options={"visibility_timeout": 5},
        )
    sr: Any = None

    def r() -> Any:
        nonlocal sr
        if sr is None:
            sr = _sync_redis()
        return sr

    @app.task(name="tick")  # type: ignore[untyped-decorator]
    def tick(key: str, sleep_s: float) -> int:  # Celery tasks are synchronous functions
        if sleep_s:
            time.sleep(sleep_s)
        if key:
            r().incr(key)
        return 1

    @app.task(name="slow")  # type: ignore[untyped-decorator]
    def slow(key: str) -> int:
        r().rpush(f"{key}:attempts", time.time())
        time.sleep(KILL_JOB_S)
        r().set(f"{key}:done", time.time())
        return 1

    @app.task(name="flaky", autoretry_for=(RuntimeError,), retry_backoff=1, retry_jitter=False, max_retries=5)  # type: ignore[untyped-decorator]
    def flaky(key: str) -> int:
        n = r().rpush(f"{key}:attempts", time.time())
        if n < 3:
            raise RuntimeError(f"attempt {n} fails on purpose")
        return int(n)

    return app


def _arq_settings() -> Any:
    from arq import Retry
    from arq.connections import RedisSettings
    from arq.worker import func

    async def tick(ctx: dict[str, Any], key: str, sleep_s: float) -> int:
        return await tick_body(key, sleep_s)

    async def slow(ctx: dict[str, Any], key: str) -> int:
        return await slow_body(key)

    async def flaky(ctx: dict[str, Any], key: str) -> int:
        try:
            return await flaky_body(key)
        except RuntimeError:  # arq retries on Retry; the backoff is the job's own arithmetic
            raise Retry(defer=0.5 * 2 ** (ctx["job_try"] - 1)) from None

    attrs: dict[str, Any] = {
        "functions": [func(f, name=f.__name__) for f in (tick, slow, flaky)],
        "redis_settings": RedisSettings.from_dsn(URL),
    }
    if CONC:
        attrs["max_jobs"] = int(CONC)
    if MODE == "alo":  # redelivery happens when the in-progress key expires: job_timeout + 10 s
        attrs["job_timeout"] = 4
    if MODE == "poll10":
        attrs["poll_delay"] = 0.01
    return type("ArqSettings", (), attrs)


def _saq_queue() -> Any:
    from saq import Queue

    return Queue.from_url(URL)


def _saq_settings() -> dict[str, Any]:
    # SAQ's enqueue() takes `key` as its own dedup key, so the counter travels as `counter`
    async def tick(ctx: dict[str, Any], *, counter: str, sleep_s: float) -> int:
        return await tick_body(counter, sleep_s)

    async def slow(ctx: dict[str, Any], *, counter: str) -> int:
        return await slow_body(counter)

    async def flaky(ctx: dict[str, Any], *, counter: str) -> int:
        return await flaky_body(counter)

    settings: dict[str, Any] = {"queue": _saq_queue(), "functions": [(f.__name__, f) for f in (tick, slow, flaky)]}
    if CONC:
        settings["concurrency"] = int(CONC)
    if MODE == "alo":  # stuck jobs are found by the sweep (default every 60 s); retries default to 1 try
        settings["timers"] = {"sweep": 1}
    return settings


def _taskiq_broker() -> Any:
    from taskiq.middlewares import SmartRetryMiddleware
    from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

    kwargs: dict[str, Any] = {}
    if MODE == "alo":  # unacknowledged messages are claimed after idle_timeout (default 10 minutes)
        kwargs["idle_timeout"] = 4000
    broker = (
        RedisStreamBroker(URL, **kwargs)
        .with_result_backend(RedisAsyncResultBackend(URL))
        .with_middlewares(
            SmartRetryMiddleware(default_retry_count=5, default_delay=0.5, use_delay_exponent=True, use_jitter=False)
        )
    )
    broker.register_task(tick_body, task_name="tick")
    broker.register_task(slow_body, task_name="slow")
    broker.register_task(flaky_body, task_name="flaky", retry_on_error=True)
    return broker


_BUILDERS: dict[str, Callable[[], Any]] = {
    "celery_app": _celery_app,
    "ArqSettings": _arq_settings,
    "saq_settings": _saq_settings,
    "taskiq_broker": _taskiq_broker,
}


def __getattr__(name: str) -> Any:
    if name not in _BUILDERS:
        raise AttributeError(name)
    if name not in _BUILT:
        _BUILT[name] = _BUILDERS[name]()
    return _BUILT[name]


def worker_command(lib: str, python: str, conc: str) -> list[str]:
    c = ["--concurrency", conc] if conc else []
    if lib == "celery":
        return [python, "-m", "celery", "-A", "task_queues:celery_app", "worker", "-l", "WARNING", *c]
    if lib == "arq":
        return [python, "-m", "arq", "task_queues.ArqSettings"]
    if lib == "saq":
        return [python, "-m", "saq", "task_queues.saq_settings", "--workers", "1"]
    t = ["--max-async-tasks", conc] if conc else []
    return [python, "-m", "taskiq", "worker", "task_queues:taskiq_broker", "--workers", "1", *t]


# ---------------------------------------------------------------------------------------------------------
# Client side: one adapter per library, all async (Celery's synchronous calls run in a thread).


class Client:
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def enqueue(self, fn: str, job_id: str | None = None, **kw: Any) -> None: ...
    async def run(self, fn: str, **kw: Any) -> None: ...  # enqueue and await completion


class CeleryClient(Client):
    async def start(self) -> None:
        import task_queues

        self.app = task_queues.celery_app

    async def enqueue(self, fn: str, job_id: str | None = None, **kw: Any) -> None:
        await asyncio.to_thread(self.app.send_task, fn, kwargs=kw, task_id=job_id)

    async def run(self, fn: str, **kw: Any) -> None:
        def call() -> None:
            self.app.send_task(fn, kwargs=kw).get(timeout=30)

        await asyncio.to_thread(call)


class ArqClient(Client):
    async def start(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        self.pool = await create_pool(RedisSettings.from_dsn(URL))

    async def close(self) -> None:
        await self.pool.aclose()

    async def enqueue(self, fn: str, job_id: str | None = None, **kw: Any) -> None:
        await self.pool.enqueue_job(fn, *kw.values(), _job_id=job_id)

    async def run(self, fn: str, **kw: Any) -> None:
        job = await self.pool.enqueue_job(fn, *kw.values())
        await job.result(timeout=30, poll_delay=0.005)


class SaqClient(Client):
    async def start(self) -> None:
        self.queue = _saq_queue()
        await self.queue.connect()

    async def close(self) -> None:
        await self.queue.disconnect()

    async def enqueue(self, fn: str, job_id: str | None = None, **kw: Any) -> None:
        extra: dict[str, Any] = {"key": job_id} if job_id else {}
        if fn == "flaky":
            extra.update(retries=5, retry_delay=0.5, retry_backoff=True)
        if fn == "slow" and MODE == "alo":
            extra.update(timeout=4, retries=2)
        await self.queue.enqueue(fn, **extra, counter=kw.pop("key"), **kw)

    async def run(self, fn: str, **kw: Any) -> None:
        job = await self.queue.enqueue(fn, counter=kw.pop("key"), **kw)
        await job.refresh(until_complete=30)


class TaskiqClient(Client):
    async def start(self) -> None:
        self.broker = _taskiq_broker()
        await self.broker.startup()

    async def close(self) -> None:
        await self.broker.shutdown()

    def _task(self, fn: str) -> Any:
        return self.broker.find_task(fn)

    async def enqueue(self, fn: str, job_id: str | None = None, **kw: Any) -> None:
        kicker = self._task(fn).kicker()
        if job_id:
            kicker = kicker.with_task_id(job_id)
        await kicker.kiq(**kw)

    async def run(self, fn: str, **kw: Any) -> None:
        t = await self._task(fn).kiq(**kw)
        await t.wait_result(timeout=30, check_interval=0.005)


CLIENTS: dict[str, type[Client]] = {"celery": CeleryClient, "arq": ArqClient, "saq": SaqClient, "taskiq": TaskiqClient}


async def wait_until(pred: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.005) -> float | None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if await pred():
            return time.perf_counter() - t0
        await asyncio.sleep(every)
    return None


async def client_phase(lib: str, phase: str, args: list[str]) -> dict[str, Any]:
    c = CLIENTS[lib]()
    await c.start()
    r = _ar()
    try:
        if phase == "ready":  # first job through a freshly started worker
            t0 = time.perf_counter()
            while True:
                try:
                    await asyncio.wait_for(c.run("tick", key="", sleep_s=0.0), 60)
                    return {"ready_s": time.perf_counter() - t0}
                except Exception:  # worker not consuming yet
                    if time.perf_counter() - t0 > 60:
                        raise
                    await asyncio.sleep(0.05)
        if phase == "latency":
            lat = []
            for _ in range(int(args[0])):
                t0 = time.perf_counter()
                await c.run("tick", key="", sleep_s=0.0)
                lat.append(time.perf_counter() - t0)
            return {"latency_s": lat}
        if phase == "throughput":
            n, sleep_s, key = int(args[0]), float(args[1]), args[2]
            t0 = time.perf_counter()
            for _ in range(n):
                await c.enqueue("tick", key=key, sleep_s=sleep_s)
            enq = time.perf_counter() - t0

            async def all_done() -> bool:
                return int(await r.get(key) or 0) >= n

            done = await wait_until(all_done, 120, 0.01)
            total = time.perf_counter() - t0 if done is not None else None
            return {"enqueue_s": enq, "total_s": total, "jobs_per_s": n / total if total else None}
        if phase == "kill-start":  # enqueue the slow job and return once it runs
            key = args[0]
            await c.enqueue("slow", key=key)

            async def started() -> bool:
                return int(await r.llen(f"{key}:attempts")) >= 1

            return {"started_after_s": await wait_until(started, 30)}
        if phase == "kill-watch":
            key = args[0]

            async def done() -> bool:
                return bool(await r.exists(f"{key}:done"))

            after = await wait_until(done, KILL_WAIT_S, 0.05)
            return {"done_after_s": after, "attempts": int(await r.llen(f"{key}:attempts"))}
        if phase == "retry":
            key = args[0]
            await c.enqueue("flaky", key=key)

            async def three() -> bool:
                return int(await r.llen(f"{key}:attempts")) >= 3

            await wait_until(three, 30, 0.01)
            await asyncio.sleep(1.0)  # would a fourth attempt follow?
            ts = [float(x) for x in await r.lrange(f"{key}:attempts", 0, -1)]
            return {"attempts": len(ts), "gaps_s": [b - a for a, b in itertools.pairwise(ts)]}
        if phase == "dedup":
            key = args[0]
            for _ in range(2):
                await c.enqueue("tick", job_id=f"{key}-id", key=key, sleep_s=0.3)
            await asyncio.sleep(2.5)
            return {"runs": int(await r.get(key) or 0)}
        raise SystemExit(f"unknown phase {phase}")
    finally:
        await c.close()


# ---------------------------------------------------------------------------------------------------------
# Orchestrator: Redis, workers, rounds, report.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bench:
    def __init__(self, pythons: dict[str, str], tmp: Path) -> None:
        self.pythons = pythons
        self.tmp = tmp
        self.url = ""
        self.redis: subprocess.Popen[bytes] | None = None

    def start_redis(self) -> str:
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("redis-server not found on PATH: install Redis (e.g. apt-get install redis-server)")
        port = free_port()
        d = self.tmp / "redis"
        d.mkdir()
        self.redis = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d), "--save", "", "--appendonly", "no"],
            stdout=(d / "log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"redis://127.0.0.1:{port}/0"
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), 0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not answer PING within 10 s")

    def stop_redis(self) -> None:
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)

    def flush(self) -> None:
        self.redis_cmd("FLUSHALL")

    def redis_cmd(self, *cmd: str) -> str:
        host, port = self.url.split("//")[1].split("/")[0].split(":")
        out = subprocess.run(["redis-cli", "-h", host, "-p", port, *cmd], capture_output=True, text=True)
        return out.stdout.strip()

    def env(self, conc: str, mode: str) -> dict[str, str]:
        e = dict(os.environ, TQ_URL=self.url, TQ_CONC=conc, TQ_MODE=mode)
        e["PYTHONPATH"] = os.pathsep.join([str(HERE), e.get("PYTHONPATH", "")])
        return e

    def start_worker(self, lib: str, conc: str = "", mode: str = "default") -> subprocess.Popen[bytes]:
        log = (self.tmp / f"worker-{lib}.log").open("ab")
        return subprocess.Popen(
            worker_command(lib, self.pythons[lib], conc),
            env=self.env(conc, mode),
            cwd=HERE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @staticmethod
    def stop_worker(w: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        try:
            os.killpg(w.pid, sig)
        except ProcessLookupError:
            return
        try:
            w.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(w.pid, signal.SIGKILL)
            w.wait(5)
        deadline = time.time() + 5  # the group's children (prefork pool) too
        while time.time() < deadline:
            try:
                os.killpg(w.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(w.pid, signal.SIGKILL)

    def client(self, lib: str, phase: str, *args: str, mode: str = "default") -> dict[str, Any]:
        out = subprocess.run(
            [self.pythons[lib], str(Path(__file__).resolve()), "client", lib, phase, *args],
            env=self.env("", mode),
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if out.returncode != 0:
            tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"error": tail[0]}
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def load() -> float:
    return round(os.getloadavg()[0], 2)


def round_for(b: Bench, lib: str, a: argparse.Namespace, rnd: int) -> dict[str, Any]:
    res: dict[str, Any] = {"load_before": load()}
    for conc in ("", "10"):
        b.flush()
        w = b.start_worker(lib, conc)
        try:
            tag = "default" if not conc else "c10"
            res[f"ready_{tag}"] = b.client(lib, "ready")
            if not conc:
                res["latency"] = b.client(lib, "latency", str(a.latency_jobs))
            res[f"tp_trivial_{tag}"] = b.client(lib, "throughput", str(a.throughput_jobs), "0", f"tp:{rnd}:{tag}:t")
            res[f"tp_sleep_{tag}"] = b.client(
                lib, "throughput", str(a.throughput_jobs), str(SLEEP_JOB_S), f"tp:{rnd}:{tag}:s"
            )
        finally:
            b.stop_worker(w)
    if lib == "arq":  # arq's worker polls Redis every 0.5 s by default; the same with a 10 ms poll
        b.flush()
        w = b.start_worker(lib, "", "poll10")
        try:
            b.client(lib, "ready", mode="poll10")
            res["latency_poll10"] = b.client(lib, "latency", str(a.latency_jobs), mode="poll10")
        finally:
            b.stop_worker(w)
    res["load_after"] = load()
    return res


def kill_test(b: Bench, lib: str, mode: str) -> dict[str, Any]:
    b.flush()
    key = f"kill:{lib}:{mode}"
    w = b.start_worker(lib, "", mode)
    b.client(lib, "ready", mode=mode)
    started = b.client(lib, "kill-start", key, mode=mode)
    time.sleep(0.3)
    b.stop_worker(w, signal.SIGKILL)
    t_kill = time.perf_counter()
    w2 = b.start_worker(lib, "", mode)
    try:
        watch = b.client(lib, "kill-watch", key, mode=mode)
    finally:
        b.stop_worker(w2)
    watched_for = time.perf_counter() - t_kill
    done = watch.get("done_after_s")
    return {
        "mode": mode,
        "started": started,
        "attempts": watch.get("attempts"),
        "redelivered": watch.get("attempts", 0) >= 2 and done is not None,
        "done_after_restart_s": None if done is None else round(done, 2),
        "watched_s": round(watched_for, 1),
        "error": watch.get("error"),
    }


def features_run(b: Bench, lib: str) -> dict[str, Any]:
    b.flush()
    w = b.start_worker(lib)
    try:
        b.client(lib, "ready")
        return {"retry": b.client(lib, "retry", f"retry:{lib}"), "dedup": b.client(lib, "dedup", f"dedup:{lib}")}
    finally:
        b.stop_worker(w)


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def versions(b: Bench, lib: str) -> str:
    code = (
        "import importlib.metadata as m, sys; n=sys.argv[1]; "
        "p={'celery':['celery','kombu','redis'],'arq':['arq','redis'],'saq':['saq','redis'],"
        "'taskiq':['taskiq','taskiq-redis','redis']}[n]; print(', '.join(f'{x} {m.version(x)}' for x in p))"
    )
    return subprocess.run([b.pythons[lib], "-c", code, lib], capture_output=True, text=True).stdout.strip()


def orchestrate(a: argparse.Namespace) -> dict[str, Any]:
    libs = [x for x in a.only.split(",") if x]
    pythons = {lib: sys.executable for lib in LIBS}
    for spec in a.python:
        name, _, path = spec.partition("=")
        if name not in LIBS or not path:
            raise SystemExit(f"--python {spec!r}: expected NAME=PATH with NAME one of {', '.join(LIBS)}")
        pythons[name] = path
    with tempfile.TemporaryDirectory(prefix="riso-bench-tq-") as tmp:
        b = Bench(pythons, Path(tmp))
        redis_version = b.start_redis()
        data: dict[str, Any] = {
            "command": " ".join(["python", "bench/task_queues.py", *sys.argv[1:]]),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",  # noqa: E501
            "redis": redis_version,
            "versions": {lib: versions(b, lib) for lib in libs},
            "args": vars(a),
            "rounds": [],
        }
        try:
            t0 = time.time()
            for rnd in range(a.rounds):
                order = libs[rnd % len(libs) :] + libs[: rnd % len(libs)]  # rotate who goes first
                row: dict[str, Any] = {"load_before": load()}
                for lib in order:
                    print(f"round {rnd + 1}: {lib} (load {load()})", file=sys.stderr)
                    row[lib] = round_for(b, lib, a, rnd)
                data["rounds"].append(row)
            data["kill"] = {}
            for lib in libs:
                print(f"kill test: {lib}", file=sys.stderr)
                modes = ["default", "alo"] if lib == "celery" else ["alo"]
                data["kill"][lib] = [kill_test(b, lib, m) for m in modes]
            data["features"] = {}
            for lib in libs:
                print(f"retry + dedup: {lib}", file=sys.stderr)
                data["features"][lib] = features_run(b, lib)
            data["wall_s"] = round(time.time() - t0, 1)
        finally:
            b.stop_redis()
    return data


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def fmt(x: float | None, unit: str = "", nd: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{nd}f}{unit}"


def render(data: dict[str, Any]) -> str:
    libs = list(data["versions"])
    rounds = data["rounds"]
    out = [
        f"Command: `{data['command']}`  ",
        f"Machine: {data['machine']}; {data['redis'].split(' sha')[0]}; wall time {data.get('wall_s')} s.  ",
        "Versions: " + "; ".join(data["versions"].values()) + ".  ",
        "1-minute load average per round (before each candidate): "
        + "; ".join(
            f"round {i + 1}: " + ", ".join(f"{lib} {r[lib]['load_before']}" for lib in libs)
            for i, r in enumerate(rounds)
        )
        + ".",
        "",
        "### Enqueue-to-completion latency, one trivial job at a time (medians of the rounds' percentiles)",
        "",
        "| candidate | p50 | p99 | p50 / Celery's p50 (median of per-round ratios) |",
        "| --- | ---: | ---: | ---: |",
    ]

    def lat(lib: str, field: str = "latency") -> list[list[float]]:
        return [r[lib][field]["latency_s"] for r in rounds if "latency_s" in r[lib].get(field, {})]

    base = lat("celery") if "celery" in libs else []
    rows = [(lib, "latency", lib) for lib in libs]
    if "arq" in libs:
        rows.append(("arq", "latency_poll10", "arq, worker poll_delay 10 ms (default 0.5 s)"))
    for lib, field, label in rows:
        ls = lat(lib, field)
        p50 = med([pct(x, 0.5) for x in ls])
        p99 = med([pct(x, 0.99) for x in ls])
        ratio = med([pct(x, 0.5) / pct(y, 0.5) for x, y in zip(ls, base, strict=False)]) if base else None
        out.append(
            f"| {label} | {fmt(p50 and p50 * 1e3, ' ms')} | {fmt(p99 and p99 * 1e3, ' ms')} | {fmt(ratio, 'x', 2)} |"
        )
    out += [
        "",
        "### Throughput, one worker process (jobs/s, median of rounds; ratio to Celery in the same round)",
        "",
        f"{data['args']['throughput_jobs']} jobs enqueued back to back, timed from the first enqueue until every job has run.",  # noqa: E501
        "",
        "| candidate | trivial, default concurrency | trivial, concurrency 10 | 20 ms sleep, default concurrency | 20 ms sleep, concurrency 10 | first job after worker start |",  # noqa: E501
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for lib in libs:
        cells = []
        for k in ("tp_trivial_default", "tp_trivial_c10", "tp_sleep_default", "tp_sleep_c10"):
            v = [r[lib][k].get("jobs_per_s") for r in rounds]
            b = [r["celery"][k].get("jobs_per_s") for r in rounds] if "celery" in libs else []
            ok = [x for x in v if x]
            ratios = [x / y for x, y in zip(v, b, strict=False) if x and y]
            cells.append(f"{fmt(med(ok), '', 0)} ({fmt(med(ratios), 'x', 2)})")
        ready = med([r[lib]["ready_default"]["ready_s"] for r in rounds if "ready_s" in r[lib]["ready_default"]])
        out.append(f"| {lib} | " + " | ".join(cells) + f" | {fmt(ready and ready * 1e3, ' ms', 0)} |")
    out += [
        "",
        f"### Worker killed with SIGKILL (whole process group) during a {KILL_JOB_S:.0f} s job, a new worker started at once",  # noqa: E501
        "",
        "| candidate | settings | attempts | job completed | after the new worker started |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for lib in libs:
        for k in data["kill"][lib]:
            label = "library defaults" if k["mode"] == "default" else "redelivery settings (above)"
            done = k["done_after_restart_s"]
            state = (
                "yes (redelivered)"
                if k["redelivered"]
                else ("yes" if done is not None else f"no, lost (watched {k['watched_s']} s)")
            )
            out.append(f"| {lib} | {label} | {k['attempts']} | {state} | {fmt(done, ' s')} |")
    out += [
        "",
        "### Retries with backoff and duplicate job ids (one run each)",
        "",
        "| candidate | job failing twice then succeeding: attempts, delays between them | same job id enqueued twice: runs |",  # noqa: E501
        "| --- | --- | ---: |",
    ]
    for lib in libs:
        f = data["features"][lib]
        rt, dd = f["retry"], f["dedup"]
        rs = rt.get("error") or f"{rt['attempts']}, " + " / ".join(f"{g:.2f} s" for g in rt["gaps_s"])
        out.append(f"| {lib} | {rs} | {dd.get('runs', dd.get('error'))} |")
    return "\n".join(out) + "\n"


def write_report(data: dict[str, Any]) -> None:
    text = REPORT.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    REPORT.write_text(head + BEGIN + "\n" + render(data) + END + tail)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        lib, phase, *rest = sys.argv[2:]
        print(json.dumps(asyncio.run(client_phase(lib, phase, rest))))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--latency-jobs", type=int, default=50)
    p.add_argument("--throughput-jobs", type=int, default=150)
    p.add_argument("--python", action="append", default=[], metavar="NAME=PATH")
    p.add_argument("--only", default=",".join(LIBS))
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--render", action="store_true", help="only rewrite the report from the raw JSON")
    a = p.parse_args()
    if a.render:
        write_report(json.loads(RAW.read_text()))
        return
    data = orchestrate(a)
    if not a.no_write:
        RAW.parent.mkdir(exist_ok=True)
        RAW.write_text(json.dumps(data, indent=1) + "\n")
        if REPORT.exists():
            write_report(data)
    print(json.dumps(data)[:2000])


if __name__ == "__main__":
    main()
