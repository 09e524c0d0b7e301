"""Prometheus metrics of one app: requests, resident submissions, and the store's counters.

Each app has its own registry (several apps in one test process must not collide). Names
follow the Prometheus conventions: what only grows is a counter named ``*_total``
(duplicates seen, conflicts kept); what is a current size is a gauge (readings, meters,
unbound meters, quarantine by reason). No ``*_created`` series: they double the output and
nobody here reads them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import Match

from adapters.store import ReadingStore

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_STORE_TTL_S = 10.0  # count(*) over readings is not free: refreshed at most this often

disable_created_metrics()  # type: ignore[no-untyped-call]  # process-wide: the gateway's metrics go without them as well


class Metrics:
    def __init__(self, *, store_ttl_s: float = _STORE_TTL_S) -> None:
        self.store_ttl_s = store_ttl_s
        self.store_queries = 0  # times the store figures were asked of the database
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "uchet_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "uchet_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.submissions = Counter(
            "uchet_submissions", "resident reading submissions by outcome", ["outcome"], registry=r
        )
        self.queue_depth = Gauge(
            "uchet_submission_queue_depth", "submissions waiting for a group commit", registry=r
        )
        self.batch_seconds = Histogram(
            "uchet_submission_batch_seconds",
            "validate + write of one group commit",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "uchet_submission_batch_size",
            "submissions per group commit",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=r,
        )
        self.readings = Gauge("uchet_store_readings", "readings stored", registry=r)
        self.meters = Gauge("uchet_store_meters", "meters registered", registry=r)
        self.unbound = Gauge("uchet_store_unbound_meters", "meters not bound", registry=r)
        self.cumulative = StoreCounters()  # duplicates, conflicts: set from the store's sums
        r.register(self.cumulative)
        self.quarantined = Gauge(
            "uchet_store_quarantined", "readings in quarantine by reason", ["reason"], registry=r
        )
        self._store_at = -store_ttl_s
        self._refreshing: asyncio.Future[None] | None = None
        # labels() takes a lock and builds a key on every call; the set of children is small
        # (routes x methods x statuses, outcomes), so each is looked up once.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._outcome_children: dict[str, Counter] = {}

    async def refresh_store(self, store: ReadingStore) -> None:
        """Store figures at most ``store_ttl_s`` old. Single flight: scrapes that come while
        the figures are being computed wait for that one query instead of each starting their
        own (anonymous scrapers once filled the pool with ``count(*)`` over readings)."""
        if time.monotonic() - self._store_at < self.store_ttl_s:
            return
        flight = self._refreshing
        if flight is None:
            flight = self._refreshing = asyncio.ensure_future(self._refresh(store))
            flight.add_done_callback(self._landed)
        # shield: a scraper that goes away does not cancel the query the others wait for
        await asyncio.shield(flight)

    def _landed(self, flight: asyncio.Future[None]) -> None:
        self._refreshing = None
        if not flight.cancelled():
            flight.exception()  # retrieved here too: every waiter may have gone

    async def _refresh(self, store: ReadingStore) -> None:
        self.store_queries += 1
        stats = await store.stats()
        self._store_at = time.monotonic()
        self.readings.set(_number(stats["readings"]))
        self.meters.set(_number(stats["meters"]))
        self.unbound.set(_number(stats.get("unbound_meters", 0)))
        self.cumulative.duplicates = _number(stats["duplicates"])
        self.cumulative.conflicts = _number(stats["conflicts"])
        self.quarantined.clear()
        quarantined = stats["quarantined"]
        assert isinstance(quarantined, dict)
        for reason, n in quarantined.items():
            self.quarantined.labels(reason=reason).set(_number(n))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(method=method, route=route, status=str(status)),
                self.request_seconds.labels(method=method, route=route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def count_submission(self, outcome: str) -> None:
        child = self._outcome_children.get(outcome)
        if child is None:
            child = self._outcome_children[outcome] = self.submissions.labels(outcome=outcome)
        child.inc()


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


class StoreCounters(Collector):
    """The store's cumulative counts as counters (``*_total``): a Counter object cannot be set
    to a sum the database keeps, so they are reported from the last refresh (0 before it)."""

    def __init__(self) -> None:
        self.duplicates = 0.0  # duplicates counted at intake (ingest_counters)
        self.conflicts = 0.0  # conflicting readings kept (rows are never deleted)

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "uchet_store_duplicates", "duplicate readings seen", value=self.duplicates
        )
        yield CounterMetricFamily(
            "uchet_store_conflicts", "conflicting readings kept", value=self.conflicts
        )


def route_template(scope: Mapping[str, Any]) -> str:
    """The route template a request matched, for the ``route`` label (never the raw path).

    FastAPI's own routes put themselves in ``scope["route"]``; Starlette's plain ones
    (``/openapi.json``, ``/docs``) do not, and were labelled "unmatched": those are matched
    against the app's routes here. A path no route takes stays "unmatched".
    """
    path = getattr(scope.get("route"), "path", None)
    if path:
        return str(path)
    for route in getattr(getattr(scope.get("app"), "router", None), "routes", ()):
        template = getattr(route, "path", None)  # included routers have no single path
        if not isinstance(template, str):
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return template
    return "unmatched"
