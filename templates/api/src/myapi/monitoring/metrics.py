"""Prometheus request metrics, labelled by route template (`/items/{item_id}`), never the raw path,
so the number of series stays bounded whatever clients send."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

UNMATCHED = "<unmatched>"
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
# Finer than the default buckets at the low end, where a fast API spends its time.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    """One registry per app, so several apps (tests) never share counts."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests handled, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to handle a request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # Label lookups take a lock and build keys; the children they return never change.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in METHODS:  # clients may send any token as a method
            method = "OTHER"
        children = self._children.get((method, route, status))
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[(method, route, status)] = children
        children[0].inc()
        children[1].observe(seconds)
