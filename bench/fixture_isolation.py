"""Per-test cost of giving each test an isolated database, strategy against strategy, in one run.

    python bench/fixture_isolation.py [--tests 200] [--rounds 10] [--url postgresql://…] [--no-write]

Without --url it starts three Postgres servers one after the other with riso's Runner: exactly as the pytest
plugin does (durability off, data in RAM under /dev/shm), the same with its data on disk, and one with
durable default settings on disk (what `riso up` or a CI service gives); every strategy runs against each.
Rounds interleave the strategies so drift hits them all alike. Each "test" connects to its database and
writes and reads a few rows (the same primary key every time).
Results go between the markers in bench/fixture_isolation.md and, raw, to bench/results/fixture_isolation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
import psutil
from pytest_postgresql.janitor import DatabaseJanitor

from riso.testing import local
from riso.testing.pgadmin import AdminConnection, with_database
from riso.testing.postgres_isolation import TemplateDatabases, create_sql, drop_sql

HERE = Path(__file__).resolve().parent
REPORT = HERE / "fixture_isolation.md"
RAW = HERE / "results" / "fixture_isolation.json"
PLUGIN_SERVER = "Ephemeral server as the plugin starts it (fsync, synchronous_commit, full_page_writes off)"
DURABLE_SERVER = "Durable server (default settings, as `riso up` or a CI service container runs it)"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# A realistic first migration: a few tables, keys, indexes, an enum, a view and a trigger.
MIGRATION = """
CREATE TYPE post_state AS ENUM ('draft', 'published', 'archived');
CREATE TABLE users (
    id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE posts (
    id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title text NOT NULL, body text NOT NULL DEFAULT '', state post_state NOT NULL DEFAULT 'draft',
    created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX posts_user_id_idx ON posts (user_id);
CREATE INDEX posts_created_at_idx ON posts (created_at DESC);
CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE post_tags (
    post_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    tag_id int NOT NULL REFERENCES tags(id) ON DELETE CASCADE, PRIMARY KEY (post_id, tag_id));
CREATE INDEX post_tags_tag_id_idx ON post_tags (tag_id);
CREATE TABLE comments (
    id bigserial PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id bigint REFERENCES users(id) ON DELETE SET NULL, body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX comments_post_id_idx ON comments (post_id, created_at);
CREATE TABLE audit_log (id bigserial PRIMARY KEY, entity text NOT NULL, entity_id bigint NOT NULL,
    action text NOT NULL, at timestamptz NOT NULL DEFAULT now(), data jsonb NOT NULL DEFAULT '{}');
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE VIEW published_posts AS SELECT p.*, u.email FROM posts p JOIN users u ON u.id = p.user_id
    WHERE p.state = 'published';
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0001_initial');
"""

BODY = [
    "INSERT INTO users (id, email, name) VALUES (1, 'ada@example.com', 'Ada')",
    "INSERT INTO posts (user_id, title, state) SELECT 1, 'post ' || g, 'published' FROM generate_series(1, 3) g",
    "UPDATE users SET name = 'Ada L.' WHERE id = 1",
]
CHECK = "SELECT count(*) FROM published_posts WHERE email = 'ada@example.com'"

LOOP = asyncio.new_event_loop()


def run(coro: Any) -> Any:
    return LOOP.run_until_complete(coro)


async def _body_on(conn: asyncpg.Connection) -> None:
    for sql in BODY:
        await conn.execute(sql)
    assert await conn.fetchval(CHECK) == 3


async def _body_at(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await _body_on(conn)
    finally:
        await conn.close()


def body(url: str) -> None:
    """What a test does with its database URL: connect, write, read."""
    run(_body_at(url))


def migrate(url: str) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(MIGRATION)
        finally:
            await conn.close()

    run(go())


@dataclass
class Sample:
    total: float
    fixture: float  # setup + teardown, the part the strategy adds around the test body
    server_cpu: float | None = None  # set by strategies whose block also holds work outside the test


@dataclass
class Strategy:
    name: str
    gives_url: bool
    one: Callable[[int], Sample]
    settle: Callable[[], None] = lambda: None  # finish background work before the block's CPU is read
    samples: list[Sample] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)


class ServerCpu:
    """CPU seconds used so far by a local Postgres server: postmaster, its reaped and its live children.

    Wall times swing with whatever else runs on the machine; CPU per test hardly does, so the report
    gives both.
    """

    def __init__(self, backend_pid: int) -> None:
        self.postmaster = psutil.Process(backend_pid).parent()

    def now(self) -> float:
        own = self.postmaster.cpu_times()
        total = float(own.user + own.system + own.children_user + own.children_system)
        for child in self.postmaster.children():
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total


def timed(setup: Callable[[], Any], test: Callable[[Any], None], teardown: Callable[[Any], None]) -> Sample:
    t0 = time.perf_counter()
    handle = setup()
    t1 = time.perf_counter()
    test(handle)
    t2 = time.perf_counter()
    teardown(handle)
    t3 = time.perf_counter()
    return Sample(total=t3 - t0, fixture=(t1 - t0) + (t3 - t2))


class Bench:
    def __init__(self, admin: AdminConnection, data_in_ram: bool) -> None:
        self.admin = admin
        # Exactly what the plugin's database_url fixture uses.
        self.plugin = TemplateDatabases.open(admin.url, prefix="bench_iso", data_in_ram=data_in_ram)
        t0 = time.perf_counter()
        self.plugin.build_template(migrate)
        self.template_seconds = time.perf_counter() - t0
        self.template = self.plugin.template
        self.version = admin.fetchval("SHOW server_version")
        self.fsync = admin.fetchval("SHOW fsync")
        self.one_connection = TemplateDatabases(admin, prefix="bench_iso1", data_in_ram=data_in_ram)
        self.one_connection.build_template(migrate)
        self.shared_db = "bench_iso_shared"
        admin.execute(create_sql(self.shared_db, self.template))
        self.conn: asyncpg.Connection = run(asyncpg.connect(with_database(admin.url, self.shared_db)))
        self.cpu = ServerCpu(self.conn.get_server_pid())

    def url(self, name: str) -> str:
        return with_database(self.admin.url, name)

    def clone(self, strategy: str | None) -> Callable[[int], Sample]:
        def one(i: int) -> Sample:
            name = f"bench_iso_c{i}"

            def setup() -> str:
                self.admin.execute(create_sql(name, self.template, strategy))
                return self.url(name)

            return timed(setup, body, lambda _: self.admin.execute(drop_sql(name)))

        return one

    def conftest_janitor(self, i: int) -> Sample:
        """What a generated project's tests/conftest.py does per test: pytest-postgresql's DatabaseJanitor
        (psycopg; CREATE DATABASE ... TEMPLATE, then no new connections, terminate, DROP)."""
        parts = urlsplit(self.admin.url)
        janitor = DatabaseJanitor(
            user=unquote(parts.username or "postgres"),
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            password=unquote(parts.password) if parts.password else None,
            dbname=f"bench_iso_j{i}",
            template_dbname=self.template,
        )

        def setup() -> str:
            janitor.init()
            return self.url(janitor.dbname)

        return timed(setup, body, lambda _: janitor.drop())

    def plugin_default(self, i: int) -> Sample:
        return timed(self.plugin.acquire, body, self.plugin.release)

    def plugin_one_connection(self, i: int) -> Sample:
        return timed(self.one_connection.acquire, body, self.one_connection.release)

    def rollback(self, i: int) -> Sample:
        def setup() -> Any:
            tx = self.conn.transaction()
            run(tx.start())
            return tx

        return timed(setup, lambda _: run(_body_on(self.conn)), lambda tx: run(tx.rollback()))

    def migrate_each(self, i: int) -> Sample:
        name = f"bench_iso_m{i}"

        def setup() -> str:
            self.admin.execute(create_sql(name))
            migrate(self.url(name))
            return self.url(name)

        return timed(setup, body, lambda _: self.admin.execute(drop_sql(name)))

    def bare(self, i: int) -> Sample:
        """The test body alone, on a clone made outside the clock: the floor every strategy adds to."""
        name = f"bench_iso_b{i}"
        self.admin.execute(create_sql(name, self.template))
        c0, t0 = self.cpu.now(), time.perf_counter()
        body(self.url(name))
        elapsed, cpu = time.perf_counter() - t0, self.cpu.now() - c0
        self.admin.execute(drop_sql(name))
        return Sample(total=elapsed, fixture=0.0, server_cpu=cpu)

    def strategies(self) -> list[Strategy]:
        auto = self.plugin.strategy or "default"
        return [
            Strategy(
                "(p) template clone, **generated tests/conftest.py**: pytest-postgresql's DatabaseJanitor, "
                "synchronous create + terminate + drop",
                True,
                self.conftest_janitor,
            ),
            Strategy(
                f"(a) template clone, **riso plugin default**: {auto}, next clone created during the test, "
                "drop after it on a second connection",
                True,
                self.plugin_default,
                self.plugin.settle,
            ),
            Strategy(
                f"(a) template clone as above, creates and drops queued on one connection ({auto})",
                True,
                self.plugin_one_connection,
                self.one_connection.settle,
            ),
            Strategy("(a) template clone, FILE_COPY, synchronous create + drop", True, self.clone("FILE_COPY")),
            Strategy("(a) template clone, WAL_LOG, synchronous create + drop", True, self.clone("WAL_LOG")),
            Strategy("(b) one database, transaction rolled back per test", False, self.rollback),
            Strategy("(c) migrate per test (CREATE DATABASE + migration + DROP)", True, self.migrate_each),
            Strategy("test body alone (floor)", True, self.bare),
        ]

    def close(self) -> None:
        run(self.conn.close())
        self.admin.execute(drop_sql(self.shared_db))
        self.plugin.close()
        self.one_connection.close()


def measure(bench: Bench, tests: int, rounds: int) -> list[Strategy]:
    strategies = bench.strategies()
    per_round = max(1, tests // rounds)
    counter = 0
    for r in range(rounds):
        order = strategies[r % len(strategies) :] + strategies[: r % len(strategies)]
        for strategy in order:
            cpu_before = bench.cpu.now()
            block = []
            for _ in range(per_round):
                counter += 1
                block.append(strategy.one(counter))
            strategy.settle()
            cpu_block = (bench.cpu.now() - cpu_before) / len(block)
            strategy.samples += block
            strategy.server_cpu += [s.server_cpu if s.server_cpu is not None else cpu_block for s in block]
    return strategies


def ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


def ms_p90(values: list[float]) -> float:
    return 1000 * statistics.quantiles(values, n=10)[-1] if len(values) > 1 else 1000 * values[0]


def section(title: str, bench: Bench, strategies: list[Strategy]) -> dict[str, Any]:
    floor = statistics.median(s.total for s in strategies[-1].samples)
    rows = []
    for st in strategies:
        totals = [s.total for s in st.samples]
        rows.append(
            {
                "strategy": st.name,
                "gives_url": st.gives_url,
                "n": len(totals),
                "total_median_ms": round(ms(totals), 2),
                "total_p90_ms": round(ms_p90(totals), 2),
                "fixture_median_ms": round(ms([s.fixture for s in st.samples]), 2),
                "over_floor_ms": round(ms(totals) - 1000 * floor, 2),
                "server_cpu_mean_ms": round(1000 * statistics.fmean(st.server_cpu), 2),
            }
        )
    return {
        "title": title,
        "server_version": bench.version,
        "fsync": bench.fsync,
        "template_build_ms": round(1000 * bench.template_seconds, 1),
        "rows": rows,
    }


def markdown(sections: list[dict[str, Any]], command: str, tests: int, rounds: int) -> str:
    load = "; ".join(f"section {n}: {sec['load_before']} -> {sec['load_after']}" for n, sec in enumerate(sections, 1))
    lines = [
        f"Command: `{command}`  ",
        f"Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; "
        f"{tests} tests per strategy in {rounds} interleaved rounds; times are per test.  ",
        f"1-minute load average before -> after each section (other work shares the machine): {load}.",
        "",
    ]
    for n, sec in enumerate(sections, 1):
        lines += [
            f"### {n}. {sec['title']}",
            "",
            f"Postgres {sec['server_version']}, fsync={sec['fsync']}; template built and migrated once in "
            f"{sec['template_build_ms']} ms.",
            "",
            "| strategy | URL for the app | median total | p90 total | median setup+teardown | median over bare test "
            "| server CPU per test (mean) |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in sec["rows"]:
            lines.append(
                f"| {row['strategy']} | {'yes' if row['gives_url'] else 'no'} | {row['total_median_ms']:.1f} ms | "
                f"{row['total_p90_ms']:.1f} ms | {row['fixture_median_ms']:.1f} ms | {row['over_floor_ms']:.1f} ms | "
                f"{row['server_cpu_mean_ms']:.1f} ms |"
            )
        lines.append("")
    return "\n".join(lines)


def write_report(block: str) -> None:
    text = REPORT.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    REPORT.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}", encoding="utf-8")


def bench_server(url: str, title: str, tests: int, rounds: int, data_in_ram: bool = False) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    admin = AdminConnection(url)
    try:
        bench = Bench(admin, data_in_ram)
        try:
            result = section(title, bench, measure(bench, tests, rounds))
        finally:
            bench.close()
    finally:
        admin.close()
    result["load_before"], result["load_after"] = round(load_before, 2), round(os.getloadavg()[0], 2)
    return result


def bench_local(fast: bool, where: str | None, title: str, tests: int, rounds: int) -> dict[str, Any]:
    started = local.start(local.plan_service("postgres", HERE), fast=fast, where=where)
    try:
        return bench_server(with_database(started.url, "postgres"), title, tests, rounds, started.data_in_ram)
    finally:
        started.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=200, help="tests per strategy")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--url", help="bench this server instead of starting ones")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    command = "python bench/fixture_isolation.py " + shlex.join(sys.argv[1:])
    if args.url:
        sections = [bench_server(args.url, "Given server", args.tests, args.rounds)]
    else:
        disk = "/tmp"
        sections = [
            bench_local(True, None, f"{PLUGIN_SERVER}, data in {local.scratch_dir()}", args.tests, args.rounds),
            bench_local(True, disk, f"{PLUGIN_SERVER}, data on disk ({disk})", args.tests, args.rounds),
            bench_local(False, disk, f"{DURABLE_SERVER}, data on disk ({disk})", args.tests, args.rounds),
        ]
    block = markdown(sections, command.strip(), args.tests, args.rounds)
    print(block)
    if not args.no_write:
        RAW.parent.mkdir(exist_ok=True)
        RAW.write_text(json.dumps({"command": command.strip(), "sections": sections}, indent=2) + "\n")
        write_report(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
