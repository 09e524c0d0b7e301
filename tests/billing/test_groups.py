"""Meters grouped by (service, premise): active counts and summed lines against plain loops."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.billing.groups import Groups
from core.billing.lines import Lines
from core.billing.model import SERVICES, Meters

NS = len(SERVICES)


@st.composite
def meters(draw: st.DrawFn) -> tuple[int, Meters, list[bool], list[int]]:
    premises = draw(st.integers(1, 5))
    rows = draw(
        st.lists(st.tuples(st.integers(0, premises - 1), st.integers(0, NS - 1)), max_size=14)
    )
    n = len(rows)
    owner = np.array([r[0] for r in rows], dtype=np.int64)
    service = np.array([r[1] for r in rows], dtype=np.int64)
    m = Meters([f"m{i}" for i in range(n)], owner, service, np.zeros(n, dtype=np.int64))
    active = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    volume = draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n))
    return premises, m, active, volume


@settings(max_examples=300, deadline=None)
@given(case=meters())
def test_active_counts(case: tuple[int, Meters, list[bool], list[int]]) -> None:
    premises, m, active, _ = case
    per_meter, metered = Groups.of(m, premises).active(np.array(active, dtype=np.bool_))
    count: dict[tuple[int, int], int] = defaultdict(int)
    for i, on in enumerate(active):
        count[(int(m.service[i]), int(m.owner[i]))] += on
    for i in range(len(active)):
        assert per_meter[i] == max(1, count[(int(m.service[i]), int(m.owner[i]))])
    for s in range(NS):
        assert metered[s].tolist() == [count[(s, p)] > 0 for p in range(premises)]


@settings(max_examples=300, deadline=None)
@given(case=meters(), capacity=st.sampled_from([1, 3, 100]))
def test_lines_sum_each_group_in_service_premise_order(
    case: tuple[int, Meters, list[bool], list[int]], capacity: int
) -> None:
    premises, m, mask, volume = case
    groups = Groups.of(m, premises)
    lines = Lines(capacity)
    individual = {s: np.zeros(premises, dtype=np.int64) for s in (0, 3)}
    vol = np.array(volume, dtype=np.int64)
    groups.lines(lines, 7, 2, np.array(mask, dtype=np.bool_), vol, 1, individual)
    want: dict[tuple[int, int], int] = defaultdict(int)
    for i, on in enumerate(mask):
        if on:
            want[(int(m.service[i]), int(m.owner[i]))] += volume[i]
    a = lines.accruals({s: Decimal("1.00") for s in range(NS)}, Decimal("1.5"))
    got = list(zip(a.service.tolist(), a.premise.tolist(), a.num.tolist(), strict=True))
    assert got == [(s, p, v) for (s, p), v in sorted(want.items())]
    assert set(a.period.tolist()) <= {7} and set(a.method.tolist()) <= {2}
    for s, column in individual.items():
        assert column.tolist() == [want.get((s, p), 0) for p in range(premises)]
