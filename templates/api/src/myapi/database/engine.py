"""The async engine (asyncpg), its pool, and sessions handed out in arrival order.

SQLAlchemy's async pool gives a returned connection to whichever coroutine asks next, so under
a burst of requests a few can wait far longer than the rest (or time out). `Database` puts a
first-in, first-out gate sized to the pool in front of it: every request waits its turn, and
tail latency stays close to the average.

The pool's connections run in autocommit: a read is one statement, consistent on its own, and
costs one round trip (no BEGIN, no ROLLBACK) and no per-checkout isolation switch. Sessions
opt into a transaction (READ COMMITTED, PostgreSQL's default) for as long as they hold the
connection. So use `reader()` and `transaction()`, not the engine itself.

Both raise `DatabaseUnavailable` when the database does not answer, drops the connection or
cancels a statement that ran past `database_statement_timeout`: failures worth a retry later
(the API answers 503). Anything else (a constraint violated, a bug) passes unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from myapi.database.settings import Settings as DatabaseSettings


class DatabaseUnavailable(Exception):
    """The database did not answer, lost the connection, or took too long: try again later."""


class DatabaseBusy(DatabaseUnavailable):
    """No connection became free within the pool timeout."""


# SQLSTATE classes and codes that say "not now" rather than "not this": connection exceptions,
# insufficient resources, operator intervention (shutdown, restart), and cancelled statements.
RETRYABLE_STATE_CLASSES = ("08", "53", "57")
RETRYABLE_STATES = frozenset({"55P03", "40001", "40P01"})  # lock timeout, serialization, deadlock


def unavailable(error: BaseException) -> str | None:
    """Why `error` means the database is unavailable for now, or None when it does not."""
    if isinstance(error, (OSError, TimeoutError)):  # refused, unreachable, connect timed out
        return "the database does not answer"
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return "the connection to the database was lost"
        state = getattr(error.orig, "sqlstate", None) or ""
        if state == "57014":
            return "the database took too long"
        if state.startswith(RETRYABLE_STATE_CLASSES) or state in RETRYABLE_STATES:
            return "the database cannot serve the request now"
    return None


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    statement_timeout = round(settings.database_statement_timeout * 1000)
    return create_async_engine(
        settings.async_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=1800,
        pool_pre_ping=settings.database_pool_pre_ping,
        connect_args={
            "timeout": settings.database_connect_timeout,
            # Postgres cancels a statement (lock waits included) after this many ms.
            "server_settings": {"statement_timeout": str(statement_timeout)},
        },
        isolation_level="AUTOCOMMIT",
    )


class Database:
    """Sessions for one process. Never open a session while holding another: each request
    needs exactly one connection at a time, so the pool can never deadlock."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self._engine = create_engine(settings)
        self._timeout = settings.database_pool_timeout
        self._gate = asyncio.Semaphore(settings.database_pool_size + settings.database_max_overflow)
        self.waiting = 0
        """Requests waiting for a connection."""
        # Same pool; a session's connection leaves autocommit until it goes back.
        transactional = self._engine.execution_options(isolation_level="READ COMMITTED")
        # expire_on_commit=False: objects stay readable after commit without another query.
        self._sessions = async_sessionmaker(transactional, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed when the block ends (rolled back on error)."""
        async with self._turn(), self._sessions.begin() as session:
            yield session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads: each statement on its own (autocommit), no ORM session."""
        async with self._turn(), self._engine.connect() as connection:
            yield connection

    async def ping(self) -> None:
        async with self.reader() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def connections_in_use(self) -> int:
        return self._engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            if self._gate.locked():  # a wait ahead: bound it
                try:
                    async with asyncio.timeout(self._timeout):
                        await self._gate.acquire()
                except TimeoutError:
                    message = f"no database connection free after {self._timeout:g}s"
                    raise DatabaseBusy(message) from None
            else:
                await self._gate.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        except Exception as error:
            reason = unavailable(error)
            if reason is None:
                raise
            raise DatabaseUnavailable(reason) from error
        finally:
            self._gate.release()
