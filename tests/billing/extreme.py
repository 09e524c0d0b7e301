"""Random billing cases at the edges of real data: many decimals, huge areas, tiny registers.

Shared by the property test (tests/billing/test_extreme.py) and the 10,000-case check
(bench/bench_billing_exact.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

METERED = ("cold_water", "hot_water", "electricity", "gas", "sewage")
SERVICES = ("cold_water", "hot_water", "sewage", "electricity", "gas", "heating")
START = 2026 * 12  # 2026-01


def _name(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _dec(draw: st.DrawFn, lo: int, hi: int, places: int) -> str:
    return str(Decimal(draw(st.integers(lo, hi))).scaleb(-places))


def _decimal(draw: st.DrawFn, top: int, max_places: int) -> str:
    """A non-negative decimal below ``top`` with 0..max_places places (often many)."""
    places = draw(st.sampled_from([0, 2, 3, max_places, max_places, draw(st.integers(0, 15))]))
    places = min(places, max_places)
    return _dec(draw, 0, top * 10**places - 1, places)


def _positive(draw: st.DrawFn, top: int, max_places: int) -> str:
    value = _decimal(draw, top, max_places)
    return value if Decimal(value) > 0 else "0.5"


@st.composite
def meter(draw: st.DrawFn, mid: str, service: str, first: int, last: int) -> dict[str, Any]:
    digits = draw(st.sampled_from([None, None, 1, 2, 3, 9, 12]))
    places = draw(st.sampled_from([0, 3, 3, 6, 9]))
    months = sorted(draw(st.sets(st.integers(first - 13, last), max_size=10)))
    cap = Decimal(10) ** (digits or 12)
    value = Decimal(draw(st.integers(0, 10**places))).scaleb(-places) % cap
    readings = []
    for month in months:
        y, m = divmod(month, 12)
        days = sorted(draw(st.sets(st.integers(1, 28), min_size=1, max_size=3)))
        for d in days:
            step = draw(st.sampled_from([0, 1, 10**places, 10 ** (places + 3), 10 ** (places + 8)]))
            value += Decimal(draw(st.integers(0, step))).scaleb(-places)
            if digits is not None and draw(st.integers(0, 4)) == 0:
                value += cap  # a full turn and then some: a rollover inside the month
            shown = value % cap if digits else value
            ts = f"{y:04d}-{m + 1:02d}-{d:02d}" + ("" if draw(st.booleans()) else "T10:00:00Z")
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
    tariffs = {s: _decimal(draw, 100000, 4) for s in SERVICES if draw(st.booleans())}
    normatives = {s: _positive(draw, 300, 15) for s in SERVICES if s != "sewage"}
    if draw(st.booleans()):
        normatives["heating"] = draw(st.sampled_from(["0.016666666666667", "0.0198"]))
    if draw(st.booleans()):
        normatives["sewage"] = _positive(draw, 20, 15)
    soi = {
        s: _decimal(draw, 10, 15)
        for s in ("cold_water", "hot_water", "electricity")
        if draw(st.booleans())
    }
    houses = []
    for h in range(draw(st.integers(1, 2))):
        services = st.sampled_from(["cold_water", "hot_water", "electricity", "heating"])
        meters = []
        for n, service in enumerate(draw(st.lists(services, max_size=4))):
            m = draw(meter(f"h{h}-m{n}", service, first, last))
            m.pop("installed", None)
            meters.append(m)
        houses.append(
            {
                "id": f"h{h}",
                "common_area": _decimal(draw, 100000, 4),
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
            "area": _positive(draw, 100000, 4),
            "residential": draw(st.booleans()),
            "residents": draw(st.sampled_from([0, 1, 4, draw(st.integers(0, 10000))])),
            "owners": draw(st.integers(0, 50)),
            "meter_possible": draw(st.booleans()),
            "meters": meters,
        }
        if draw(st.booleans()):
            premise["normatives"] = {"cold_water": _positive(draw, 30, 15)}
        premises.append(premise)
    return {
        "start_period": _name(first),
        "period": _name(last),
        "timezone": draw(st.sampled_from(["Europe/Moscow", "Asia/Kamchatka", "UTC"])),
        "settings": {
            "average_window_months": draw(st.integers(1, 12)),
            "average_min_months": draw(st.integers(1, 12)),
            "average_max_periods": draw(st.integers(0, 12)),
            "increasing_coefficient": draw(st.sampled_from(["1.5", "1", "2.123456789"])),
        },
        "tariffs": tariffs,
        "normatives": normatives,
        "soi_normatives": soi,
        "houses": houses,
        "premises": premises,
    }
