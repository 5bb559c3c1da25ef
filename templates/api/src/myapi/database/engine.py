"""The async engine (asyncpg), its pool, and sessions handed out in arrival order.

SQLAlchemy's async pool gives a returned connection to whichever coroutine asks next, so under
a burst of requests a few can wait far longer than the rest (or time out). `Database` puts a
first-in, first-out gate sized to the pool in front of it: every request waits its turn, and
tail latency stays close to the average.

The pool's connections run in autocommit: a read is one statement, consistent on its own, and
costs one round trip (no BEGIN, no ROLLBACK) and no per-checkout isolation switch. Sessions
opt into a transaction (READ COMMITTED, PostgreSQL's default) for as long as they hold the
connection. So use `reader()` and `transaction()`, not the engine itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from myapi.database.settings import Settings as DatabaseSettings


class DatabaseBusy(Exception):
    """No connection became free within the pool timeout."""


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    return create_async_engine(
        settings.async_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=1800,
        connect_args={"timeout": settings.database_connect_timeout},
        isolation_level="AUTOCOMMIT",
    )


class Database:
    """Sessions for one process. Never open a session while holding another: each request
    needs exactly one connection at a time, so the pool can never deadlock."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self._engine = create_engine(settings)
        self._timeout = settings.database_pool_timeout
        self._gate = asyncio.Semaphore(settings.database_pool_size + settings.database_max_overflow)
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

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._gate.locked():  # a wait ahead: bound it
            try:
                async with asyncio.timeout(self._timeout):
                    await self._gate.acquire()
            except TimeoutError:
                message = f"no database connection free after {self._timeout:g}s"
                raise DatabaseBusy(message) from None
        else:
            await self._gate.acquire()
        try:
            yield
        finally:
            self._gate.release()
