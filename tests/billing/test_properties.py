"""Random houses billed by the vectorized core and by the reference: equal line by line."""

from __future__ import annotations

from calendar import monthrange
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.billing.case import bill_case
from tests.billing.reference import expected_output
from tests.billing.test_cases import _lines, _same

METERED = ("cold_water", "hot_water", "electricity", "gas", "sewage")
START = 2026 * 12  # 2026-01


def _name(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _dec(draw: st.DrawFn, lo: int, hi: int, places: int) -> str:
    return str(Decimal(draw(st.integers(lo, hi))).scaleb(-places))


@st.composite
def meter(draw: st.DrawFn, mid: str, service: str, first: int, last: int) -> dict[str, Any]:
    digits = draw(st.sampled_from([None, None, 3, 4]))
    months = sorted(draw(st.sets(st.integers(first - 9, last), max_size=8)))
    value = (
        Decimal(draw(st.integers(0, 9999))) / 10
        if digits is None
        else Decimal(draw(st.integers(0, 10**digits - 1)))
    )
    readings = []
    for month in months:
        y, m = divmod(month, 12)
        days = sorted(draw(st.sets(st.integers(2, 27), min_size=1, max_size=2)))
        stamps = [
            f"{y:04d}-{m + 1:02d}-{d:02d}" + ("" if draw(st.booleans()) else "T10:00:00+00:00")
            for d in days
        ]
        if draw(st.integers(0, 3)) == 0:
            # 22:30 UTC on the last day is already the next month in Moscow
            stamps.append(f"{y:04d}-{m + 1:02d}-{monthrange(y, m + 1)[1]:02d}T22:30:00+00:00")
        for ts in stamps:
            value += Decimal(draw(st.integers(0, 60000))) / 1000
            shown = value % (10**digits) if digits else value
            readings.append([ts, format(shown, "f")])
    raw: dict[str, Any] = {"id": mid, "service": service, "readings": readings}
    if digits is not None:
        raw["capacity_digits"] = digits
    if draw(st.booleans()):
        inst = draw(st.integers(first - 12, last))
        raw["installed"] = f"{inst // 12:04d}-{inst % 12 + 1:02d}-{draw(st.integers(1, 28)):02d}"
    return raw


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    first = START + draw(st.integers(0, 2))
    last = first + draw(st.integers(0, 3))
    services = ("cold_water", "hot_water", "sewage", "electricity", "gas", "heating")
    tariffs = {s: _dec(draw, 1, 300000, 2) for s in services if draw(st.booleans())}
    normatives = {s: _dec(draw, 1, 20000, 3) for s in services if s != "sewage"}
    normatives["heating"] = _dec(draw, 1, 400, 4)
    if draw(st.booleans()):
        normatives["sewage"] = _dec(draw, 1, 20000, 3)
    soi = {
        s: _dec(draw, 1, 3000, 3)
        for s in ("cold_water", "hot_water", "electricity")
        if draw(st.booleans())
    }
    houses = []
    for h in range(draw(st.integers(1, 2))):
        meters = []
        for n, service in enumerate(
            draw(
                st.lists(
                    st.sampled_from(["cold_water", "hot_water", "electricity", "heating"]),
                    max_size=4,
                )
            )
        ):
            m = draw(meter(f"h{h}-m{n}", service, first, last))
            m.pop("installed", None)
            meters.append(m)
        houses.append(
            {
                "id": f"h{h}",
                "common_area": _dec(draw, 0, 50000, 1),
                "soi_excess": draw(st.sampled_from(["operator", "distribute"])),
                "meters": meters,
            }
        )
    premises = []
    for p in range(draw(st.integers(1, 4))):
        meters = [
            draw(meter(f"p{p}-m{n}", service, first, last))
            for n, service in enumerate(draw(st.lists(st.sampled_from(METERED), max_size=4)))
        ]
        premise: dict[str, Any] = {
            "id": f"p{p}",
            "house": f"h{draw(st.integers(0, len(houses) - 1))}",
            "area": _dec(draw, 1, 20000, draw(st.integers(0, 2))),
            "residential": draw(st.booleans()),
            "residents": draw(st.integers(0, 4)),
            "owners": draw(st.integers(0, 3)),
            "meter_possible": draw(st.booleans()),
            "meters": meters,
        }
        if draw(st.booleans()):
            premise["normatives"] = {"cold_water": _dec(draw, 1, 20000, 2)}
        premises.append(premise)
    return {
        "start_period": _name(first),
        "period": _name(last),
        "timezone": "Europe/Moscow",
        "settings": {
            "average_window_months": draw(st.integers(2, 7)),
            "average_min_months": draw(st.integers(1, 4)),
            "average_max_periods": draw(st.integers(1, 4)),
            "increasing_coefficient": draw(st.sampled_from(["1.5", "1.25", "2"])),
        },
        "tariffs": tariffs,
        "normatives": normatives,
        "soi_normatives": soi,
        "houses": houses,
        "premises": premises,
    }


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_core_equals_reference(case: dict[str, Any]) -> None:
    want, want_houses = expected_output(case)
    out = bill_case(case, explain=True)
    assert _same(_lines(out["accruals"]), want) == []
    got_houses = {
        (r["period"], r["house"], r["service"]): (
            r["house_volume"],
            r["individual_volume"],
            r["excess_volume"],
            r["distributed_volume"],
            r["operator_volume"],
        )
        for r in out["houses"]
    }
    assert got_houses == want_houses
