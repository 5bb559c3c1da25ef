"""The features a project can declare, and the services each one implies.

Adding a feature is a local change: one entry here, its files in the blueprint.
The Nix modules (`modules/project.nix`) apply the same feature -> service rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class Feature:
    name: str
    summary: str
    services: tuple[str, ...] = ()


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
    )
}

SERVICE_ORDER: tuple[str, ...] = ("postgres", "redis", "prometheus", "grafana")


def unknown_features(names: list[str]) -> list[str]:
    return [n for n in names if n not in FEATURES]


def normalise(names: list[str]) -> list[str]:
    """Sorted and de-duplicated, the canonical order used in plans and manifests."""
    return sorted(set(names))


def implied_services(names: list[str]) -> list[str]:
    wanted = {s for n in names for s in FEATURES[n].services}
    return [s for s in SERVICE_ORDER if s in wanted]


def all_combinations() -> list[tuple[str, ...]]:
    """Every subset of the known features, the empty one included (2**n of them)."""
    names = sorted(FEATURES)
    return [c for k in range(len(names) + 1) for c in combinations(names, k)]
