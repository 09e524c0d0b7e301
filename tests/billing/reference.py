"""A slow, per-premise reference biller written straight from spec/billing-case.md.

Fractions and Decimals only, no numpy, no code shared with core.billing: the property tests
hold the vectorized core to this line by line.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

INDIVIDUAL = ("meter", "recalculation", "average", "normative")


def _month(text: str) -> int:
    y, m = text.split("-")
    return int(y) * 12 + int(m) - 1


def _name(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _moment(text: str, tz: ZoneInfo) -> datetime:
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=tz)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


class Meter:
    def __init__(self, raw: dict[str, Any], tz: ZoneInfo) -> None:
        self.id = raw["id"]
        self.service = raw["service"]
        inst = raw.get("installed")
        self.installed = None
        if inst is not None:
            local = _moment(inst, tz).astimezone(tz)
            self.installed = local.year * 12 + local.month - 1
        self.digits = raw.get("capacity_digits")
        rows = []
        for ts, value in raw.get("readings", []):
            moment = _moment(ts, tz)
            local = moment.astimezone(tz)
            rows.append((moment, local.year * 12 + local.month - 1, Decimal(value)))
        rows.sort(key=lambda r: r[0])  # stable: equal instants keep their order
        self.rows = rows

    def active(self, period: int) -> bool:
        return self.installed is None or self.installed < period

    def last_in(self, month: int) -> int | None:
        found = None
        for i, row in enumerate(self.rows):
            if row[1] == month:
                found = i
        return found

    def months(self) -> list[int]:
        return sorted({r[1] for r in self.rows})

    def consumption(self, i: int, j: int) -> Fraction:
        total = Fraction(0)
        for k in range(i + 1, j + 1):
            prev, cur = self.rows[k - 1][2], self.rows[k][2]
            if cur < prev:
                if self.digits is None:
                    raise ValueError(f"meter {self.id} decreases without capacity_digits")
                total += Fraction(10**self.digits - prev + cur)
            else:
                total += Fraction(cur - prev)
        return total


def reference(
    case: dict[str, Any],
) -> tuple[
    dict[tuple[str, ...], tuple[Fraction, Decimal, Decimal]],
    dict[tuple[str, ...], tuple[Fraction | None, ...]],
]:
    """Lines {(period, premise, service, method): (volume, tariff, coefficient)} and house rows."""
    tz = ZoneInfo(case.get("timezone", "Europe/Moscow"))
    last = _month(case["period"])
    first = _month(case.get("start_period", case["period"]))
    st = case.get("settings", {})
    window = st.get("average_window_months", 6)
    min_months = st.get("average_min_months", 3)
    max_periods = st.get("average_max_periods", 6)
    k_coef = Decimal(st.get("increasing_coefficient", "1.5"))
    tariffs = {s: Decimal(v) for s, v in case.get("tariffs", {}).items()}
    general = {s: Decimal(v) for s, v in case.get("normatives", {}).items()}
    soi = {s: Decimal(v) for s, v in case.get("soi_normatives", {}).items()}
    houses = {h["id"]: h for h in case.get("houses", [])}
    house_meters = {h["id"]: [Meter(m, tz) for m in h.get("meters", [])] for h in houses.values()}
    premises = case.get("premises", [])
    meters = {p["id"]: [Meter(m, tz) for m in p.get("meters", [])] for p in premises}
    members_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in premises:
        members_of[q["house"]].append(q)
    estimates: dict[str, dict[int, Fraction]] = defaultdict(dict)
    lines: dict[tuple[str, ...], tuple[Fraction, Decimal, Decimal]] = {}
    rows: dict[tuple[str, ...], tuple[Fraction | None, ...]] = {}

    def normative(p: dict[str, Any], service: str) -> Fraction:
        own = {s: Decimal(v) for s, v in p.get("normatives", {}).items()}
        if service in own:
            return Fraction(own[service])
        if service in general:
            return Fraction(general[service])
        if service == "sewage":
            return normative(p, "cold_water") + normative(p, "hot_water")
        raise ValueError(f"premise {p['id']}: no {service} normative")

    def share(p: dict[str, Any], n: int, service: str, active: list[Meter]) -> Fraction:
        return n * normative(p, service) / len(active)

    def add(key: tuple[str, ...], volume: Fraction, coef: Decimal = Decimal(1)) -> None:
        old = lines.get(key)
        lines[key] = ((old[0] if old else Fraction(0)) + volume, tariffs[key[2]], coef)

    def house_volume(hid: str, service: str, period: int) -> Fraction | None:
        ms = [m for m in house_meters[hid] if m.service == service]
        if not ms:
            return None
        total = Fraction(0)
        for m in ms:
            cur, prev = m.last_in(period), m.last_in(period - 1)
            if cur is None or prev is None:
                return None
            total += m.consumption(prev, cur)
        return total

    for period in range(first, last + 1):
        pn = _name(period)
        for p in premises:
            pid = p["id"]
            n = p.get("residents", 0) or p.get("owners", 0)
            residential = p.get("residential", True)
            for service in ("cold_water", "hot_water", "electricity", "gas", "sewage"):
                if service not in tariffs:
                    continue
                active = [m for m in meters[pid] if m.service == service and m.active(period)]
                if not active:
                    if service == "sewage":
                        water = sum(
                            (
                                lines[(pn, pid, w, meth)][0]
                                for w in ("cold_water", "hot_water")
                                for meth in INDIVIDUAL
                                if (pn, pid, w, meth) in lines
                            ),
                            Fraction(0),
                        )
                        add((pn, pid, service, "water_sum"), water)
                    elif residential:
                        coef = Decimal(1)
                        if p.get("meter_possible", True) and service in (
                            "cold_water",
                            "hot_water",
                            "electricity",
                        ):
                            coef = k_coef
                        add((pn, pid, service, "normative"), n * normative(p, service), coef)
                    continue
                for m in active:
                    earlier = [mo for mo in m.months() if mo < period]
                    a = max(earlier) if earlier else None
                    cur = m.last_in(period)
                    if cur is not None:
                        if a is None:
                            add((pn, pid, service, "normative"), share(p, n, service, active))
                            continue
                        add((pn, pid, service, "meter"), m.consumption(m.last_in(a), cur))
                        back = [v for q, v in estimates[m.id].items() if a < q < period]
                        if back:
                            add((pn, pid, service, "recalculation"), -sum(back, Fraction(0)))
                        continue
                    avg = None
                    if a is not None:
                        span = [mo for mo in m.months() if a - window <= mo <= a - 1]
                        if span and a - min(span) >= min_months:
                            b = min(span)
                            avg = m.consumption(m.last_in(b), m.last_in(a)) / (a - b)
                    if avg is not None and period - a <= max_periods:
                        add((pn, pid, service, "average"), avg)
                        estimates[m.id][period] = avg
                    else:
                        split = share(p, n, service, active)
                        add((pn, pid, service, "normative"), split)
                        estimates[m.id][period] = split
            if "heating" in tariffs:
                area = Fraction(Decimal(p["area"]))
                total = sum(
                    (Fraction(Decimal(q["area"])) for q in members_of[p["house"]]),
                    Fraction(0),
                )
                v = house_volume(p["house"], "heating", period)
                if v is not None:
                    add((pn, pid, "heating", "house_meter_area"), v * area / total)
                else:
                    add((pn, pid, "heating", "normative_area"), area * normative(p, "heating"))
        for hid, house in houses.items():
            members = members_of[hid]
            total = sum((Fraction(Decimal(q["area"])) for q in members), Fraction(0))
            for service, n_soi in soi.items():
                if service not in tariffs:
                    continue
                v_ind = sum(
                    (
                        lines[(pn, q["id"], service, meth)][0]
                        for q in members
                        for meth in INDIVIDUAL
                        if (pn, q["id"], service, meth) in lines
                    ),
                    Fraction(0),
                )
                cap = Fraction(n_soi) * Fraction(Decimal(house["common_area"]))
                v_house = house_volume(hid, service, period)
                if v_house is None:
                    rows[(pn, hid, service)] = (None, v_ind, None, cap, Fraction(0))
                    method, dist = "soi_normative", cap
                else:
                    excess = max(Fraction(0), v_house - v_ind)
                    if house.get("soi_excess", "operator") == "distribute":
                        dist = excess
                    else:
                        dist = min(excess, cap)
                    rows[(pn, hid, service)] = (v_house, v_ind, excess, dist, excess - dist)
                    method = "soi_house_meter"
                for q in members:
                    area = Fraction(Decimal(q["area"]))
                    add((pn, q["id"], service, method), dist * area / total)
    return lines, rows


def half_up(value: Fraction, places: int) -> str:
    """A fraction rounded half away from zero, as a plain decimal string."""
    scaled = value * 10**places
    whole = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    text = str(Decimal(whole).scaleb(-places).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))
    return ("-" + text) if scaled < 0 and whole != 0 else text


def expected_output(
    case: dict[str, Any],
) -> tuple[
    dict[tuple[str, ...], tuple[str, str, str, str]], dict[tuple[str, ...], tuple[str | None, ...]]
]:
    """The reference rendered like the spec's output: strings, volume 6 and amount 2 places."""
    lines, rows = reference(case)
    out = {}
    for key, (volume, tariff, coef) in lines.items():
        amount = volume * Fraction(tariff) * Fraction(coef)
        out[key] = (half_up(volume, 6), half_up(amount, 2), format(tariff, "f"), format(coef, "f"))
    houses = {
        key: tuple(None if v is None else half_up(v, 6) for v in row) for key, row in rows.items()
    }
    return out, houses
