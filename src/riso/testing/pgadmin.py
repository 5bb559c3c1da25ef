"""A synchronous admin connection to Postgres, driven by asyncpg on a private event-loop thread.

asyncpg is the driver generated database projects already carry. Running it on its own thread keeps
the fixtures synchronous and usable whether or not the test has an event loop of its own running,
and lets database clones be prepared in the background while a test runs.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from riso.errors import RisoError

T = TypeVar("T")
Connection = Any  # asyncpg.Connection; asyncpg ships no type information

UNREACHABLE_HINT = (
    "if DATABASE_URL points there, start that server (`riso up -d`) or unset DATABASE_URL so the tests start their own"
)
DRIVER_HINT = "pip install asyncpg (in the environment that runs pytest)"


def plain_url(url: str) -> str:
    """`postgresql+asyncpg://…` or `postgres://…` -> `postgresql://…` (what every driver accepts)."""
    scheme, rest = url.split("://", 1)
    if scheme.split("+", 1)[0] not in ("postgres", "postgresql"):
        raise RisoError(f"not a Postgres URL: {scheme}://…", "use a postgresql:// URL")
    return f"postgresql://{rest}"


def with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(plain_url(url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(database), parts.query, parts.fragment))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _import_asyncpg() -> Any:
    try:
        return importlib.import_module("asyncpg")
    except ImportError:
        raise RisoError("the database fixtures need the asyncpg package", DRIVER_HINT) from None


class LoopThread:
    """An event loop on a daemon thread; `run` blocks for a result, `submit` returns a Future."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="riso-pgadmin", daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


class AdminConnection:
    """One connection to a maintenance database; operations run one at a time, in order."""

    def __init__(self, url: str, loop: LoopThread | None = None, connect_timeout: float = 30) -> None:
        self.url = plain_url(url)
        self._own_loop = loop is None
        self._loop = loop or LoopThread()
        self._lock: asyncio.Lock | None = None
        try:
            self._conn: Connection = self._loop.run(self._connect(connect_timeout))
        except BaseException:
            self._stop_loop()
            raise

    async def _connect(self, timeout: float) -> Connection:
        driver = _import_asyncpg()
        self._lock = asyncio.Lock()
        try:
            conn: Connection = await driver.connect(self.url, timeout=timeout)
        except (OSError, TimeoutError, driver.PostgresError) as err:
            raise RisoError(f"cannot connect to Postgres at {safe_url(self.url)}: {err}", UNREACHABLE_HINT) from None
        return conn

    async def _locked(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        assert self._lock is not None
        async with self._lock:
            return await work(self._conn)

    def submit_execute(self, sql: str) -> Future[str]:
        """Run `sql` after whatever is queued; the caller decides when to wait."""
        return self._loop.submit(self._locked(lambda c: c.execute(sql)))

    def execute(self, sql: str, timeout: float = 120) -> str:
        return self.submit_execute(sql).result(timeout)

    def fetchval(self, sql: str, *args: object) -> Any:
        return self._loop.run(self._locked(lambda c: c.fetchval(sql, *args)))

    def sibling(self) -> AdminConnection:
        """A second connection to the same database on the same loop thread; close it before this one."""
        return AdminConnection(self.url, loop=self._loop)

    def server_version(self) -> int:
        """Major version, e.g. 15."""
        return int(self._conn.get_server_version().major)

    def close(self) -> None:
        try:
            self._loop.run(self._conn.close(timeout=10), timeout=15)
        except Exception:
            pass
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        if self._own_loop:
            self._loop.stop()


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


def accepts_queries(url: str, timeout: float = 3) -> bool:
    """Whether the server at `url` answers `SELECT 1` now (a readiness probe)."""
    driver = _import_asyncpg()

    async def probe() -> bool:
        try:
            conn = await driver.connect(plain_url(url), timeout=timeout)
        except (OSError, TimeoutError, driver.PostgresError):
            return False
        try:
            return bool(await conn.fetchval("SELECT 1") == 1)
        finally:
            await conn.close()

    loop = LoopThread()  # not asyncio.run: the caller may be inside a running event loop
    try:
        return loop.run(probe(), timeout=timeout + 5)
    finally:
        loop.stop()
