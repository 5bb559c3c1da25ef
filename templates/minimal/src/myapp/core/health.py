"""Readiness: every dependency probed concurrently, each with a timeout, the result reused briefly.

Reusing the result for a second keeps /readyz as cheap as /healthz under load, and keeps a
load balancer's polling from ever loading the database or Redis. While one caller refreshes an
expired result, the others get the previous one at once: under load a probe round takes many
event-loop turns, and nobody else should wait for it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Report:
    """`checks` maps each dependency to "ok" or what went wrong."""

    checks: dict[str, str]
    body: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        status = "ready" if self.ready else "unavailable"
        content = {"status": status, "checks": self.checks, "failing": self.failing}
        object.__setattr__(self, "body", json.dumps(content).encode())

    @property
    def failing(self) -> list[str]:
        return [name for name, result in self.checks.items() if result != "ok"]

    @property
    def ready(self) -> bool:
        return not self.failing


class Readiness:
    def __init__(self, probes: Mapping[str, Probe], timeout: float, cache_seconds: float) -> None:
        self._probes = dict(probes)
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
        return Report(dict(zip(names, results, strict=True)))

    async def _probe(self, probe: Probe) -> str:
        try:
            async with asyncio.timeout(self._timeout):
                await probe()
        except TimeoutError:
            return f"timed out after {self._timeout:g}s"
        except Exception as err:  # any failure means "not ready"; say which
            return f"{type(err).__name__}: {err}".rstrip(": ")
        return "ok"
