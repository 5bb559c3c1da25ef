"""The registry every feature plugs into.

Each feature package has a `feature.py` holding `FEATURE = Feature(...)`, and `features.py`
lists them. The command line, `open_resources` and (with the api feature) the app factory read
that list; no other file names a feature. What a feature can add:

- `open`: what it holds for the process's lifetime (a pool, a client), opened for the app's
  lifespan and for each CLI run, provided in `Resources` by type, with readiness probes (those
  in `optional` only degrade the service) and the metrics it counts (`Metric`, exported by the
  monitoring feature);
- `commands`: CLI sub-commands;
- `around`: a context for every CLI run (logging, a trace span);
- `web`: with the api feature, its `<feature>/web.py` `install(app, settings, shutdown)` adds
  routes, middleware and error handlers; `server_options` tune the server `serve` runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from myapp.core.cache import NO_CACHE, Cache
from myapp.core.health import Probe

if TYPE_CHECKING:
    from myapp.core.config import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Metric:
    """A number a feature keeps (hits, connections in use), read whenever metrics are scraped;
    samples of one `name` with different `labels` form one family."""

    name: str
    help: str
    kind: Literal["counter", "gauge"]
    read: Callable[[], float]
    labels: Mapping[str, str] = field(default_factory=dict)


class Resources:
    """What the features opened, by type, the readiness probes they registered (`optional`
    names those the service works without), the metrics they keep, and the cache every
    feature may read through (the cache feature's Redis, else one that keeps nothing)."""

    def __init__(self) -> None:
        self._values: dict[type[object], object] = {}
        self.probes: dict[str, Probe] = {}
        self.optional: set[str] = set()
        self.metrics: list[Metric] = []
        self.cache: Cache = NO_CACHE

    def provide(self, kind: type[T], value: T) -> T:
        self._values[kind] = value
        return value

    def find(self, kind: type[T]) -> T | None:
        """The resource of that type, or None when no feature provides one."""
        return cast("T | None", self._values.get(kind))

    def get(self, kind: type[T]) -> T:
        value = self.find(kind)
        if value is None:
            raise LookupError(f"no {kind.__name__}: the feature that provides it is off")
        return value


Opener = Callable[["Settings", Resources], AbstractAsyncContextManager[None]]
AsyncRun = Callable[[argparse.Namespace, "Settings", Resources], Awaitable[int]]
SyncRun = Callable[[argparse.Namespace, "Settings"], int]
Around = Callable[["Settings", str], AbstractContextManager[Callable[[int], None]]]


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command that takes no arguments."""


@dataclass(frozen=True)
class Command:
    """A CLI sub-command: `run` gets the resources opened; `run_sync` runs without them."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None] = no_arguments
    run: AsyncRun | None = None
    run_sync: SyncRun | None = None


@dataclass(frozen=True)
class Feature:
    name: str
    open: Opener | None = None
    commands: tuple[Command, ...] = ()
    around: Around | None = None
    web: bool = False
    server_options: Mapping[str, Any] = field(default_factory=dict)
    """Options for the ASGI server that `serve` runs (uvicorn.run)."""
    uses: tuple[str, ...] = ()
    """Features whose resources this one's `open` looks up: they are opened first."""
    explain: Callable[[BaseException], str | None] | None = None
    """For the command line: what an error of this feature's dependency means, in one line
    with its fix (the database does not answer, its schema is not migrated), or None for an
    error it does not know, which keeps its traceback."""


def in_opening_order(features: Iterable[Feature]) -> list[Feature]:
    """`features` with each one after those it `uses` (among those present), else as given."""
    pending = list(features)
    present = {feature.name for feature in pending}
    ordered: list[Feature] = []
    while pending:
        done = {feature.name for feature in ordered}
        ready = next(
            f for f in pending if all(u in done or u not in present for u in f.uses)
        )  # StopIteration only for a cycle, which features.py must not hold
        ordered.append(ready)
        pending.remove(ready)
    return ordered
