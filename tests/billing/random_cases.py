"""Random billing cases (spec/billing-case.md) for the property tests: ordinary houses
(``cases()``, checked against the reference in tests/billing/test_properties.py and the store
in tests/billing_db/test_random_store.py) and the edges of real data (``cases(extreme=True)``:
many decimals, huge areas, tiny registers; tests/billing/test_extreme.py and the 10,000-case
check bench/bench_billing_exact.py).
"""

from __future__ import annotations

from calendar import monthrange
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from core.billing.case import bill_case
from tests.billing.reference import expected_output
from tests.billing.test_cases import _lines, _same

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


def _meter(
    draw: st.DrawFn, mid: str, service: str, first: int, last: int, digits: int | None
) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": mid, "service": service, "readings": []}
    if digits is not None:
        raw["capacity_digits"] = digits
    if draw(st.booleans()):
        inst = draw(st.integers(first - 12, last))
        raw["installed"] = f"{_name(inst)}-{draw(st.integers(1, 28)):02d}"
    return raw


@st.composite
def meter(draw: st.DrawFn, mid: str, service: str, first: int, last: int) -> dict[str, Any]:
    """An ordinary meter: readings in some months, some at 22:30 UTC on the month's last day
    (already the next month in Moscow), registers of 3 or 4 digits that roll over."""
    digits = draw(st.sampled_from([None, None, 3, 4]))
    months = sorted(draw(st.sets(st.integers(first - 9, last), max_size=8)))
    value = (
        Decimal(draw(st.integers(0, 9999))) / 10
        if digits is None
        else Decimal(draw(st.integers(0, 10**digits - 1)))
    )
    raw = _meter(draw, mid, service, first, last, digits)
    for month in months:
        y, m = divmod(month, 12)
        days = sorted(draw(st.sets(st.integers(2, 27), min_size=1, max_size=2)))
        stamps = [
            f"{y:04d}-{m + 1:02d}-{d:02d}" + ("" if draw(st.booleans()) else "T10:00:00+00:00")
            for d in days
        ]
        if draw(st.integers(0, 3)) == 0:
            stamps.append(f"{y:04d}-{m + 1:02d}-{monthrange(y, m + 1)[1]:02d}T22:30:00+00:00")
        for ts in stamps:
            value += Decimal(draw(st.integers(0, 60000))) / 1000
            shown = value % (10**digits) if digits else value
            raw["readings"].append([ts, format(shown, "f")])
    return raw


@st.composite
def extreme_meter(draw: st.DrawFn, mid: str, service: str, first: int, last: int) -> dict[str, Any]:
    """A meter at the edges: registers of 1 to 12 digits, up to 9 decimals, huge steps and
    full turns of the register inside a month."""
    digits = draw(st.sampled_from([None, None, 1, 2, 3, 9, 12]))
    places = draw(st.sampled_from([0, 3, 3, 6, 9]))
    months = sorted(draw(st.sets(st.integers(first - 13, last), max_size=10)))
    cap = Decimal(10) ** (digits or 12)
    value = Decimal(draw(st.integers(0, 10**places))).scaleb(-places) % cap
    raw = _meter(draw, mid, service, first, last, digits)
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
            raw["readings"].append([ts, format(shown, "f")])
    return raw


def _rates(draw: st.DrawFn, extreme: bool) -> dict[str, Any]:
    """Tariffs, normatives and СОИ normatives."""
    if extreme:
        tariffs = {s: _decimal(draw, 100000, 4) for s in SERVICES if draw(st.booleans())}
        normatives = {s: _positive(draw, 300, 15) for s in SERVICES if s != "sewage"}
        if draw(st.booleans()):
            normatives["heating"] = draw(st.sampled_from(["0.016666666666667", "0.0198"]))
        sewage = _positive(draw, 20, 15)
    else:
        tariffs = {s: _dec(draw, 1, 300000, 2) for s in SERVICES if draw(st.booleans())}
        normatives = {s: _dec(draw, 1, 20000, 3) for s in SERVICES if s != "sewage"}
        normatives["heating"] = _dec(draw, 1, 400, 4)
        sewage = _dec(draw, 1, 20000, 3)
    if draw(st.booleans()):
        normatives["sewage"] = sewage
    soi = {
        s: _decimal(draw, 10, 15) if extreme else _dec(draw, 1, 3000, 3)
        for s in ("cold_water", "hot_water", "electricity")
        if draw(st.booleans())
    }
    return {"tariffs": tariffs, "normatives": normatives, "soi_normatives": soi}


def _premise(
    draw: st.DrawFn, p: int, houses: int, meters: list[dict[str, Any]], extreme: bool
) -> dict[str, Any]:
    if extreme:
        area = _positive(draw, 100000, 4)
        residents = draw(st.sampled_from([0, 1, 4, draw(st.integers(0, 10000))]))
        owners = draw(st.integers(0, 50))
    else:
        area = _dec(draw, 1, 20000, draw(st.integers(0, 2)))
        residents, owners = draw(st.integers(0, 4)), draw(st.integers(0, 3))
    premise: dict[str, Any] = {
        "id": f"p{p}",
        "house": f"h{draw(st.integers(0, houses - 1))}",
        "area": area,
        "residential": draw(st.booleans()),
        "residents": residents,
        "owners": owners,
        "meter_possible": draw(st.booleans()),
        "meters": meters,
    }
    if draw(st.booleans()):
        own = _positive(draw, 30, 15) if extreme else _dec(draw, 1, 20000, 2)
        premise["normatives"] = {"cold_water": own}
    return premise


@st.composite
def cases(draw: st.DrawFn, extreme: bool = False) -> dict[str, Any]:
    """A case of 1–2 houses and 1–4 premises billed over 1–4 periods from 2026-01..03."""
    first = START + draw(st.integers(0, 2))
    last = first + draw(st.integers(0, 3))
    rates = _rates(draw, extreme)
    one_meter = extreme_meter if extreme else meter
    houses = []
    for h in range(draw(st.integers(1, 2))):
        services = st.sampled_from(["cold_water", "hot_water", "electricity", "heating"])
        meters = []
        for n, service in enumerate(draw(st.lists(services, max_size=4))):
            m = draw(one_meter(f"h{h}-m{n}", service, first, last))
            m.pop("installed", None)
            meters.append(m)
        houses.append(
            {
                "id": f"h{h}",
                "common_area": _decimal(draw, 100000, 4) if extreme else _dec(draw, 0, 50000, 1),
                "soi_excess": draw(st.sampled_from(["operator", "distribute"])),
                "meters": meters,
            }
        )
    premises = []
    for p in range(draw(st.integers(1, 4))):
        kinds = draw(st.lists(st.sampled_from(METERED), max_size=4))
        meters = [draw(one_meter(f"p{p}-m{n}", s, first, last)) for n, s in enumerate(kinds)]
        premises.append(_premise(draw, p, len(houses), meters, extreme))
    if extreme:
        timezone = draw(st.sampled_from(["Europe/Moscow", "Asia/Kamchatka", "UTC"]))
        window, least, most = (1, 12), (1, 12), (0, 12)
        coefficients = ["1.5", "1", "2.123456789"]
    else:
        timezone, window, least, most = "Europe/Moscow", (2, 7), (1, 4), (1, 4)
        coefficients = ["1.5", "1.25", "2"]
    return {
        "start_period": _name(first),
        "period": _name(last),
        "timezone": timezone,
        "settings": {
            "average_window_months": draw(st.integers(*window)),
            "average_min_months": draw(st.integers(*least)),
            "average_max_periods": draw(st.integers(*most)),
            "increasing_coefficient": draw(st.sampled_from(coefficients)),
        },
        **rates,
        "houses": houses,
        "premises": premises,
    }


def house_rows(out: dict[str, Any]) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """The house rows of a case output by (period, house, service), as the reference has them."""
    return {
        (r["period"], r["house"], r["service"]): (
            r["house_volume"],
            r["individual_volume"],
            r["excess_volume"],
            r["distributed_volume"],
            r["operator_volume"],
        )
        for r in out["houses"]
    }


def check(case: dict[str, Any]) -> None:
    """Bills ``case`` by the core (with explanations) and by the reference: equal."""
    want, want_houses = expected_output(case)
    out = bill_case(case, explain=True)
    assert _same(_lines(out["accruals"]), want) == []
    assert house_rows(out) == want_houses
