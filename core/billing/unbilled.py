"""Premise services a run could not bill, and why: a normative a line needs is missing (rule 6),
or a line depends on one that is (sewage as cold + hot water, the СОИ of a house measured by
its meter, which subtracts every premise's volume). The run bills everyone else; nothing of
those services is billed for those premises in that period, so no amount is silently wrong.

Kept as arrays (a whole service without a normative can leave most premises unbilled);
:func:`unbilled_messages` sums them up per period, service and reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.billing.model import (
    SERVICES,
    BillingResult,
    BoolArray,
    Int64Array,
    Unbilled,
    month_name,
)

#: reasons: no normative for a line of the premise's own (rule 4, heating by area); no
#: normative for a silent meter (rule 3); sewage from an unbilled cold or hot water; the СОИ of
#: a house whose meter's excess needs an unbilled premise's volume
NO_NORMATIVE, METER_NORMATIVE, WATER_SUM, HOUSE_SOI = range(4)
_SHOWN = 5


class UnbilledLog:
    """What a run could not bill, per period: the rows, and per service which premises have
    nothing of it billed in the current period (what sewage and СОИ depend on)."""

    def __init__(self, n_premises: int) -> None:
        self.n = n_premises
        self.chunks: list[tuple[Int64Array, ...]] = []
        self.lost: dict[int, BoolArray] = {}

    def next_period(self) -> None:
        self.lost = {}

    def add(
        self,
        period: int,
        premise: Int64Array,
        service: int | Int64Array,
        reason: int,
        meter: Int64Array | None = None,
    ) -> None:
        if premise.size == 0:
            return
        services = np.broadcast_to(np.asarray(service, dtype=np.int64), premise.shape)
        self.chunks.append(
            (
                np.full(premise.size, period, dtype=np.int64),
                premise.astype(np.int64),
                services.copy(),
                np.full(premise.size, reason, dtype=np.int64),
                np.full(premise.size, -1, dtype=np.int64) if meter is None else meter,
            )
        )
        for s in np.unique(services).tolist():
            mask = self.lost.setdefault(s, np.zeros(self.n, dtype=np.bool_))
            mask[premise[services == s]] = True

    def lost_any(self, services: Sequence[int]) -> BoolArray | None:
        """Premises with any of ``services`` unbilled in the current period (None: none)."""
        masks = [self.lost[s] for s in services if s in self.lost]
        if not masks:
            return None
        out: BoolArray = np.logical_or.reduce(masks)
        return out

    def result(self) -> Unbilled:
        if not self.chunks:
            return Unbilled()
        return Unbilled(*(np.concatenate([c[i] for c in self.chunks]) for i in range(5)))


def unbilled_messages(result: BillingResult) -> list[str]:
    """One line per (period, service, reason) the run could not bill: how many premises, the
    first few named (an operator adds the normative, or accepts the gap)."""
    u, inp = result.unbilled, result.input
    if u.period.size == 0:
        return []
    premise_ids, meter_ids, house_ids = inp.premises.ids, inp.meters.ids, inp.houses.ids
    premise_house = inp.premises.house
    order = np.lexsort((u.premise, u.reason, u.service, u.period))
    key = np.stack([u.period[order], u.service[order], u.reason[order]], axis=1)
    new = np.ones(order.size, dtype=np.bool_)
    new[1:] = (key[1:] != key[:-1]).any(axis=1)
    starts = np.flatnonzero(new).tolist()
    out = []
    for a, b in zip(starts, [*starts[1:], order.size], strict=True):
        rows = order[a:b]
        period, s, reason = (int(v) for v in key[a])
        first = rows[:_SHOWN]
        service = SERVICES[s]
        if reason == METER_NORMATIVE:
            names = [
                f"{premise_ids[p]} (meter {meter_ids[m]})"
                for p, m in zip(u.premise[first].tolist(), u.meter[first].tolist(), strict=True)
            ]
        elif reason == HOUSE_SOI:
            names = [
                f"{premise_ids[p]} (house {house_ids[premise_house[p]]})"
                for p in u.premise[first].tolist()
            ]
        else:
            names = [premise_ids[p] for p in u.premise[first].tolist()]
        why = {
            NO_NORMATIVE: f"no {service} normative",
            METER_NORMATIVE: f"a meter without a reading or average needs the {service} normative, "
            "and there is none",
            WATER_SUM: "sewage is cold + hot water, and one of them is not billed",
            HOUSE_SOI: f"the house meter's {service} excess needs every premise's volume, and one "
            "is not billed",
        }[reason]
        more = f" … ({rows.size} in all)" if rows.size > _SHOWN else ""
        out.append(
            f"{service} not billed in {month_name(period)} for {rows.size} premise(s): {why}: "
            f"{', '.join(names)}{more}"
        )
    return out
