"""Prometheus metrics of the app, one registry per app (tests build many apps):

- requests, by route template (`/items/{item_id}`), never the raw path, so the number of series
  stays bounded whatever clients send; their latency; those in flight;
- the process (CPU, memory, file descriptors), the garbage collector, the platform;
- what the features keep (`Resources.metrics`: cache hits and misses, connections in use, ...)
  and whether each dependency answered its last readiness probe (`dependency_up`), read when
  scraped.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from myapi.core.health import Report
from myapi.core.registry import Resources

UNMATCHED = "<unmatched>"
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
# Finer than the default buckets at the low end, where a fast API spends its time.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class FeatureMetrics(Collector):
    """The features' own numbers and the last readiness report, as they are when scraped."""

    def __init__(self) -> None:
        self.resources: Resources | None = None
        self.report: Report | None = None

    def collect(self) -> Iterator[Metric]:
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for metric in self.resources.metrics if self.resources is not None else ():
            family = families.get(metric.name)
            if family is None:
                kind = CounterMetricFamily if metric.kind == "counter" else GaugeMetricFamily
                family = kind(metric.name, metric.help, labels=sorted(metric.labels))
                families[metric.name] = family
            family.add_metric([metric.labels[key] for key in sorted(metric.labels)], metric.read())
        yield from families.values()
        if self.report is not None:
            up = GaugeMetricFamily(
                "dependency_up",
                "1 when the dependency answered its last readiness probe, else 0.",
                labels=["dependency", "required"],
            )
            for name, result in self.report.checks.items():
                required = "false" if name in self.report.optional else "true"
                up.add_metric([name, required], 1.0 if result == "ok" else 0.0)
            yield up


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, GC_COLLECTOR, PLATFORM_COLLECTOR):
            self.registry.register(collector)
        self.features = FeatureMetrics()
        self.registry.register(self.features)
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
        self.in_flight = 0
        Gauge(
            "http_requests_in_flight", "HTTP requests being handled.", registry=self.registry
        ).set_function(lambda: self.in_flight)
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
