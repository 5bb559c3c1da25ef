"""Readiness: every dependency probed concurrently, each with a timeout, the result reused briefly.

A dependency the service can work without (the cache: reads fall back to the database) is
*optional*: when it fails the service is `degraded`, still ready; only a required dependency
failing makes it `unavailable`.

Reusing the result for a second keeps /readyz as cheap as /healthz under load, and keeps a
load balancer's polling from ever loading the database or Redis. While one caller refreshes an
expired result, the others get the previous one at once: under load a probe round takes many
event-loop turns, and nobody else should wait for it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Report:
    """`checks` maps each dependency to "ok" or what went wrong; `optional` names those the
    service works without."""

    checks: dict[str, str]
    optional: frozenset[str] = frozenset()
    body: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        content = {
            "status": self.status,
            "checks": self.checks,
            "failing": self.failing,
            "degraded": self.degraded,
        }
        object.__setattr__(self, "body", json.dumps(content).encode())

    @property
    def failing(self) -> list[str]:
        """Required dependencies that do not answer: the service is not ready."""
        return [name for name in self._failed() if name not in self.optional]

    @property
    def degraded(self) -> list[str]:
        """Optional dependencies that do not answer: the service works without them."""
        return [name for name in self._failed() if name in self.optional]

    @property
    def ready(self) -> bool:
        return not self.failing

    @property
    def status(self) -> str:
        if self.failing:
            return "unavailable"
        return "degraded" if self.degraded else "ready"

    def _failed(self) -> list[str]:
        return [name for name, result in self.checks.items() if result != "ok"]


class Readiness:
    def __init__(
        self,
        probes: Mapping[str, Probe],
        timeout: float,
        cache_seconds: float,
        optional: Iterable[str] = (),
    ) -> None:
        self._probes = dict(probes)
        self._optional = frozenset(optional)
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._report: Report | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def check(self) -> Report:
        report = self._report
        if report is not None and (time.monotonic() < self._expires or self._lock.locked()):
            return report  # fresh, or being refreshed right now
        async with self._lock:  # one probe round at a time; the first callers wait for it
            if self._report is None or time.monotonic() >= self._expires:
                self._report = await self._probe_all()
                self._expires = time.monotonic() + self._cache_seconds
            return self._report

    async def _probe_all(self) -> Report:
        names = list(self._probes)
        results = await asyncio.gather(*(self._probe(self._probes[name]) for name in names))
        return Report(dict(zip(names, results, strict=True)), self._optional)

    async def _probe(self, probe: Probe) -> str:
        try:
            async with asyncio.timeout(self._timeout):
                await probe()
        except TimeoutError:
            return f"timed out after {self._timeout:g}s"
        except Exception as err:  # any failure means "not ready"; say which
            return f"{type(err).__name__}: {err}".rstrip(": ")
        return "ok"
