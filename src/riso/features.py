"""The features a project can declare, what each one needs, and the sets of them that are valid.

Adding a feature is a local change: one entry in `FEATURES`, its files in the blueprint, its Nix module.
`requires` and `conflicts` name other features; `validate_features` turns a set that breaks them into one
clear error, and `valid_combinations` lists every set that keeps them (what the matrix checks).
The Nix modules (`modules/project.nix`) apply the same feature -> service rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations

from riso.covering import Space, covering_set
from riso.errors import RisoError


@dataclass(frozen=True)
class Feature:
    name: str
    summary: str
    services: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # features that must be present too (e.g. auth requires database)
    conflicts: tuple[str, ...] = ()  # features that cannot be present at the same time


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("api", "FastAPI app factory, routers, /healthz and /readyz"),
        Feature("database", "SQLAlchemy 2 async + asyncpg, Alembic migrations", ("postgres",)),
        Feature("cache", "redis.asyncio client, cached reads with invalidation", ("redis",)),
        Feature(
            "monitoring",
            "Prometheus /metrics, JSON logs with request ids, OpenTelemetry",
            ("prometheus", "grafana"),
        ),
        Feature("tasks", "background jobs (SAQ on Redis): retries, schedules, results", ("redis",)),
        Feature("secrets", "encrypted secrets in the repository (age), secret files, per-environment settings"),
        Feature(
            "auth",
            "OAuth2 password login, JWT access + rotating refresh tokens, argon2, roles",
            requires=("api", "database"),
        ),
    )
}

SERVICE_ORDER: tuple[str, ...] = ("postgres", "redis", "prometheus", "grafana")


class FeatureError(RisoError, ValueError):
    """A feature set that names an unknown feature, lacks a requirement or holds a conflict.

    A `ValueError` too, so a pydantic validator that lets it through reports its one line.
    """


def unknown_features(names: Iterable[str]) -> list[str]:
    return [n for n in names if n not in FEATURES]


def normalise(names: Iterable[str]) -> list[str]:
    """Sorted and de-duplicated, the canonical order used in plans and manifests."""
    return sorted(set(names))


def implied_services(names: Iterable[str]) -> list[str]:
    wanted = {s for n in names for s in FEATURES[n].services}
    return [s for s in SERVICE_ORDER if s in wanted]


def required_closure(names: Iterable[str]) -> set[str]:
    """`names` and everything they require, transitively (known features only)."""
    found: set[str] = set()
    todo = [n for n in names if n in FEATURES]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(r for r in FEATURES[name].requires if r in FEATURES)
    return found


def _conflicting(a: str, b: str) -> bool:
    return b in FEATURES[a].conflicts or a in FEATURES[b].conflicts


def problem(names: Iterable[str]) -> FeatureError | None:
    """The first thing wrong with the feature set `names` (unknown, missing requirement, conflict), or None."""
    chosen = normalise(names)
    unknown = unknown_features(chosen)
    if unknown:
        return FeatureError(f"unknown feature {unknown[0]!r}", "known: " + ", ".join(sorted(FEATURES)))
    present = set(chosen)
    for name in chosen:
        missing = [r for r in FEATURES[name].requires if r not in present]
        if missing:
            return FeatureError(
                f"feature {name!r} requires {missing[0]!r}", f"add {missing[0]!r} or leave out {name!r}"
            )
    for a, b in combinations(chosen, 2):
        if _conflicting(a, b):
            return FeatureError(f"features {a!r} and {b!r} conflict", "keep only one of them")
    return None


def validate_features(names: Iterable[str]) -> list[str]:
    """The canonical list for a valid feature set; raises `FeatureError` with one clear line otherwise."""
    chosen = normalise(names)
    error = problem(chosen)
    if error is not None:
        raise error
    return chosen


def is_valid(names: Iterable[str]) -> bool:
    return problem(names) is None


def check_table() -> list[str]:
    """Mistakes in `FEATURES` itself: references to unknown features, a feature whose requirements conflict."""
    found: list[str] = []
    for feature in FEATURES.values():
        for ref in (*feature.requires, *feature.conflicts):
            if ref not in FEATURES or ref == feature.name:
                found.append(f"feature {feature.name!r} refers to {ref!r}, which is not another known feature")
        closure = required_closure([feature.name])
        if any(_conflicting(a, b) for a, b in combinations(sorted(closure), 2)):
            found.append(f"feature {feature.name!r} can never be chosen: its requirements conflict")
    return found


def _subsets(names: list[str]) -> Iterator[tuple[str, ...]]:
    for k in range(len(names) + 1):
        yield from combinations(names, k)


def all_combinations() -> list[tuple[str, ...]]:
    """Every subset of the known features, the empty one included (2**n of them), valid or not."""
    return list(_subsets(sorted(FEATURES)))


def valid_combinations() -> list[tuple[str, ...]]:
    """Every subset that keeps `requires` and `conflicts`, smallest first, each sorted (the empty one included)."""
    return [c for c in _subsets(sorted(FEATURES)) if problem(c) is None]


def space() -> Space:
    """The known features and their rules, for the covering-set algorithm."""
    return Space.of(
        FEATURES,
        {f.name: f.requires for f in FEATURES.values()},
        [(f.name, c) for f in FEATURES.values() for c in f.conflicts],
    )


def covering_combinations(strength: int = 2) -> list[tuple[str, ...]]:
    """The combinations the full tests run on: each alone, all together, none, a `strength`-way covering array."""
    return covering_set(space(), strength)
