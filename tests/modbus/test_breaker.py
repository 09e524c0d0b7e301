"""The per-device breaker: jittered capped backoff, open/close transitions."""

from __future__ import annotations

import random

import pytest

from adapters.modbus.breaker import Breaker


def test_backoff_doubles_within_jitter_and_is_capped() -> None:
    b = Breaker(threshold=3, base_s=2.0, max_s=30.0, rng=random.Random(7))
    for n in range(1, 12):
        b.record_failure(now=1000.0)
        ceiling = min(30.0, 2.0 * 2 ** (n - 1))
        delay = b.retry_at - 1000.0
        assert ceiling / 2 <= delay <= ceiling


def test_jitter_spreads_a_fleet() -> None:
    rng = random.Random(1)
    delays = []
    for _ in range(200):
        b = Breaker(threshold=1, base_s=10.0, max_s=10.0, rng=rng)
        b.record_failure(now=0.0)
        delays.append(b.retry_at)
    assert max(delays) - min(delays) > 3.0  # not all at the same instant


def test_opens_at_threshold_once_and_closes_on_success() -> None:
    b = Breaker(threshold=3, base_s=1.0, max_s=10.0)
    assert [b.record_failure(0.0) for _ in range(5)] == [False, False, True, False, False]
    assert b.is_open and b.failures == 5
    assert b.record_success() is True
    assert not b.is_open and b.failures == 0
    assert b.record_success() is False


@pytest.mark.parametrize("kw", [{"threshold": 0}, {"base_s": 0.0}, {"base_s": 5.0, "max_s": 1.0}])
def test_rejects_bad_settings(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Breaker(**kw)  # type: ignore[arg-type]
