"""Readiness: concurrent callers share one probe round, results are reused, failures named."""

from __future__ import annotations

import asyncio
import json

from myapp.core.health import Readiness


class CountingProbe:
    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.calls = 0
        self.delay = delay
        self.error = error

    async def __call__(self) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error


async def test_concurrent_checks_share_one_probe_round() -> None:
    probe = CountingProbe(delay=0.05)
    readiness = Readiness({"database": probe}, timeout=1, cache_seconds=60)
    reports = await asyncio.gather(*(readiness.check() for _ in range(50)))
    assert probe.calls == 1
    assert all(report.ready for report in reports)


async def test_result_is_reused_until_it_expires() -> None:
    probe = CountingProbe()
    cached = Readiness({"database": probe}, timeout=1, cache_seconds=60)
    await cached.check()
    await cached.check()
    assert probe.calls == 1
    fresh = Readiness({"database": probe}, timeout=1, cache_seconds=0)
    await fresh.check()
    await fresh.check()
    assert probe.calls == 3


async def test_callers_get_the_last_result_while_it_is_refreshed() -> None:
    probe = CountingProbe(delay=0.05)
    readiness = Readiness({"database": probe}, timeout=1, cache_seconds=0)
    first = await readiness.check()
    refreshing = asyncio.ensure_future(readiness.check())
    await asyncio.sleep(0.01)  # the refresh is under way
    assert await readiness.check() is first  # answered at once, from the last round
    assert await refreshing is not first
    assert probe.calls == 2


async def test_failures_and_timeouts_are_named() -> None:
    readiness = Readiness(
        {
            "database": CountingProbe(error=ConnectionRefusedError("refused")),
            "cache": CountingProbe(delay=5),
            "other": CountingProbe(),
        },
        timeout=0.05,
        cache_seconds=0,
    )
    report = await readiness.check()
    assert not report.ready
    assert report.failing == ["database", "cache"]
    assert report.checks["database"] == "ConnectionRefusedError: refused"
    assert report.checks["cache"] == "timed out after 0.05s"
    assert report.checks["other"] == "ok"


async def test_no_dependencies_means_ready() -> None:
    report = await Readiness({}, timeout=1, cache_seconds=0).check()
    assert report.ready
    assert report.body == b'{"status": "ready", "checks": {}, "failing": [], "degraded": []}'


async def test_an_optional_dependency_failing_degrades_but_stays_ready() -> None:
    readiness = Readiness(
        {"database": CountingProbe(), "cache": CountingProbe(error=ConnectionError("down"))},
        timeout=1,
        cache_seconds=0,
        optional={"cache"},
    )
    report = await readiness.check()
    assert report.ready
    assert report.status == "degraded"
    assert (report.failing, report.degraded) == ([], ["cache"])
    assert json.loads(report.body)["degraded"] == ["cache"]


async def test_a_required_dependency_failing_is_unavailable_whatever_else_fails() -> None:
    readiness = Readiness(
        {
            "database": CountingProbe(error=ConnectionError("down")),
            "cache": CountingProbe(error=ConnectionError("down")),
        },
        timeout=1,
        cache_seconds=0,
        optional={"cache"},
    )
    report = await readiness.check()
    assert not report.ready
    assert report.status == "unavailable"
    assert (report.failing, report.degraded) == (["database"], ["cache"])
