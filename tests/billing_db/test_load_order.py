"""The load's fast ordering of readings is exactly ``np.lexsort((ts, meter))``, whether the
readings come in time order per meter (the fast path) or not (the fallback)."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.store.billing_period import meter_time_order


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("time_ordered", [True, False])
def test_meter_time_order_is_lexsort(seed: int, time_ordered: bool) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    meter = rng.integers(0, 12, n).astype(np.int64)
    ts = rng.integers(0, 50, n).astype(np.int64)  # ties included
    if time_ordered:  # as readings arrive: in time order, meters interleaved
        ts = np.sort(ts)
    month = ts // 10  # never decreases with ts
    got = meter_time_order(meter, ts, month)
    assert np.array_equal(got, np.lexsort((ts, meter)))


def test_meter_time_order_partitions_out_of_order() -> None:
    # partitions scanned in no particular order, each sorted by meter (the bench's layout)
    meter = np.array([1, 2, 3, 1, 2, 3, 1, 2, 3], dtype=np.int64)
    month = np.array([5, 5, 5, 3, 3, 3, 4, 4, 4], dtype=np.int64)
    ts = month * 100 + np.array([7, 1, 4, 9, 2, 2, 0, 5, 8], dtype=np.int64)
    assert np.array_equal(meter_time_order(meter, ts, month), np.lexsort((ts, meter)))
    assert meter_time_order(meter[:0], ts[:0], month[:0]).size == 0
