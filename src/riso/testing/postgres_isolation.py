"""An isolated database per test: migrate once into a template, clone it per test, drop it after.

`bench/fixture_isolation.py` compares this with a rolled-back transaction per test and with migrating
every fresh database; the clone is the fastest way that still hands the test a real URL (an app with
its own connection pool can use it). Two things keep it off the test's critical path: the clone for
the next test is created in the background while the current test runs, and the used database is
dropped in the background after it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from concurrent.futures import Future

from riso.errors import RisoError
from riso.testing.pgadmin import AdminConnection, database_of, quote_ident, with_database

Migrate = Callable[[str], None]

# CREATE DATABASE … STRATEGY exists from Postgres 15 on. FILE_COPY copies the files and checkpoints twice:
# cheapest when the data is in RAM and fsync is off (riso's own test server); WAL_LOG writes every block to
# the WAL and wins on disk, durable or not. Measured in bench/fixture_isolation.md.
FIRST_VERSION_WITH_STRATEGY = 15


def no_migration(url: str) -> None:
    """The default `riso_migrate`: an empty template."""


def session_prefix() -> str:
    """Unique per session and per xdist worker, so sessions sharing one server never collide."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"riso_{secrets.token_hex(4)}{('_' + worker) if worker else ''}"


def clone_strategy(admin: AdminConnection, data_in_ram: bool = False) -> str | None:
    """The faster CREATE DATABASE strategy for this server; `data_in_ram` when we know its data is on tmpfs."""
    if admin.server_version() < FIRST_VERSION_WITH_STRATEGY:
        return None
    return "FILE_COPY" if data_in_ram and admin.fetchval("SHOW fsync") == "off" else "WAL_LOG"


def create_sql(name: str, template: str | None = None, strategy: str | None = None) -> str:
    sql = f"CREATE DATABASE {quote_ident(name)}"
    if template:
        sql += f" TEMPLATE {quote_ident(template)}"
    if strategy:
        sql += f" STRATEGY {strategy}"
    return sql


def drop_sql(name: str) -> str:
    # FORCE ends connections a test left open (an app's pool), which would otherwise block the drop.
    return f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)"


def seal_template(admin: AdminConnection, name: str) -> None:
    """End connections a migration left open and refuse new ones: cloning needs a template nobody uses."""
    admin.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )
    admin.execute(f"ALTER DATABASE {quote_ident(name)} WITH ALLOW_CONNECTIONS false")


class TemplateDatabases:
    """Strategy (a): one migrated template per session, one clone per test.

    `open(url)` is what the plugin uses: clones are created on one connection and dropped on a second one,
    so the drop of the last clone runs beside the creation of the next (measured: 4x less wall time per
    test on a disk-backed server, see bench/fixture_isolation.md).
    """

    @classmethod
    def open(cls, url: str, prefix: str | None = None, data_in_ram: bool = False) -> TemplateDatabases:
        admin = AdminConnection(url)
        try:
            dropper = admin.sibling()
        except BaseException:
            admin.close()
            raise
        templates = cls(admin, prefix, dropper=dropper, data_in_ram=data_in_ram)
        templates._owned = [dropper, admin]
        return templates

    def __init__(
        self,
        admin: AdminConnection,
        prefix: str | None = None,
        prefetch: bool = True,
        dropper: AdminConnection | None = None,
        data_in_ram: bool = False,
    ) -> None:
        self.admin = admin
        self.dropper = dropper or admin
        self._owned: list[AdminConnection] = []
        self.prefix = prefix or session_prefix()
        self.template = f"{self.prefix}_template"
        self.strategy = clone_strategy(admin, data_in_ram)
        self.prefetch = prefetch
        self._count = 0
        self._next: tuple[str, Future[str]] | None = None
        self._pending: list[Future[str]] = []
        self._handed_out: set[str] = set()
        self._created_template = False

    def build_template(self, migrate: Migrate) -> None:
        self.admin.execute(create_sql(self.template))
        self._created_template = True
        migrate(with_database(self.admin.url, self.template))
        seal_template(self.admin, self.template)

    def acquire(self) -> str:
        """The URL of a fresh clone of the template."""
        if self._next is None:
            name, created = self._start_clone()
        else:
            name, created = self._next
            self._next = None
        try:
            created.result(120)
        except Exception as err:
            raise RisoError(f"could not create the test database {name}: {err}") from None
        if self.prefetch:
            self._next = self._start_clone()
        self._handed_out.add(name)
        return with_database(self.admin.url, name)

    def release(self, url: str) -> None:
        """Drop a clone in the background; errors surface in `close`."""
        name = database_of(url)
        self._handed_out.discard(name)
        # Finished drops are forgotten; failed ones are kept for `close` to report.
        self._pending = [f for f in self._pending if not f.done() or f.exception() is not None]
        self._pending.append(self.dropper.submit_execute(drop_sql(name)))

    def settle(self) -> None:
        """Wait until the background work (the next clone, earlier drops) is done; errors stay for `close`."""
        if self._next is not None:
            _wait(self._next[1], [])
        for future in list(self._pending):
            _wait(future, [])

    def close(self) -> None:
        """Drop the spare clone, clones never released, and the template; wait for every background drop."""
        for name in sorted(self._handed_out):
            self._pending.append(self.dropper.submit_execute(drop_sql(name)))
        self._handed_out.clear()
        errors: list[Exception] = []
        if self._next is not None:
            name, created = self._next
            self._next = None
            _wait(created, errors)  # before its drop, which may run on the other connection
            self._pending.append(self.dropper.submit_execute(drop_sql(name)))
        if self._created_template:
            self._pending.append(self.admin.submit_execute(drop_sql(self.template)))
        pending, self._pending = self._pending, []
        for future in pending:
            _wait(future, errors)
        for conn in self._owned:
            conn.close()
        self._owned = []
        if errors:
            raise errors[0]

    def _start_clone(self) -> tuple[str, Future[str]]:
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        return name, self.admin.submit_execute(create_sql(name, self.template, self.strategy))


def _wait(future: Future[str], errors: list[Exception]) -> None:
    try:
        future.result(120)
    except Exception as err:
        errors.append(err)
