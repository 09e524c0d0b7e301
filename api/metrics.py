"""Prometheus metrics of one app: requests, resident submissions, and the store's counters.

Each app has its own registry (several apps in one test process must not collide).
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from adapters.store import ReadingStore

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_STORE_TTL_S = 10.0  # count(*) over readings is not free: refreshed at most this often


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
        self.duplicates = Gauge("uchet_store_duplicates", "duplicate readings seen", registry=r)
        self.conflicts = Gauge("uchet_store_conflicts", "conflicting readings kept", registry=r)
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
        self.duplicates.set(_number(stats["duplicates"]))
        self.conflicts.set(_number(stats["conflicts"]))
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
