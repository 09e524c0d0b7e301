"""The reconciliation report: every difference between the register and the accounts, with the
money at stake per month, ranked, and a summary per house.

Kinds of finding:

- ``unbilled``: a register premise with no account (поиск неучтённых);
- ``unregistered``: an account whose premise the register does not have (only in houses the
  register covers: a house with at least one matched row);
- ``area``: the areas differ (СОИ shares and heating follow the area);
- ``purpose``: residential in one, non-residential in the other;
- ``residents``: the people normative charges count differ, for a premise billed by normative;
- ``review``: a match below the acceptance score, or ambiguous: an operator decides;
- ``duplicate``: a second register row for a premise already matched.

Findings in houses whose last balance left unmetered consumption and that have unbilled
premises come first, then by money, largest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from core.reconcile.bulk import without_gc
from core.reconcile.match import (
    DUPLICATE,
    MATCHED,
    REVIEW,
    Match,
    MatchOptions,
    match_with_keys,
)
from core.reconcile.model import AccountPremise, HouseRates, RegisterRow
from core.reconcile.money import (
    ZERO,
    heating_charge,
    kopecks,
    normative_charge,
    people,
    soi_charge,
)

KINDS = ("unbilled", "unregistered", "area", "purpose", "residents", "review", "duplicate")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    money: Decimal  # ₽ per month at stake, to kopecks
    detail: str
    house_id: str | None = None
    premise_id: str | None = None
    account: str | None = None
    where: str = ""  # file and row of the register
    address: str = ""
    score: float = 0.0
    key: str = ""  # row_key of the register row, or "premise:<id>"
    priority: bool = False  # a house with unmetered consumption and unbilled premises
    line: int = 0  # the register row's line (0: an account's finding)


@dataclass(slots=True)
class HouseSummary:
    house_id: str
    unbilled: int = 0
    unbilled_area: Decimal = ZERO
    unregistered: int = 0
    area_delta: Decimal = ZERO  # register - accounts over matched premises, m²
    heating_delta: Decimal = ZERO  # ₽/month: heating by the register areas - by the accounts'
    soi_moved: Decimal = ZERO  # ₽/month of СОИ charged to the wrong premises (Σ|Δ|)
    money: Decimal = ZERO
    unmetered_consumption: bool = False


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    houses: dict[str, HouseSummary] = field(default_factory=dict)
    rows: int = 0
    premises: int = 0
    matched: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReconcileOptions:
    match: MatchOptions = field(default_factory=MatchOptions)
    area_tolerance: Decimal = Decimal("0.05")
    """Areas closer than this (m²) are the same: ЕГРН gives areas to 0.1 m²."""


@without_gc
def reconcile(
    rows: Sequence[RegisterRow],
    premises: Sequence[AccountPremise],
    rates: Mapping[str, HouseRates],
    *,
    options: ReconcileOptions | None = None,
    confirmed: Mapping[str, str] | None = None,
    checked: frozenset[str] = frozenset(),
) -> Report:
    """The report (see the module). ``rates`` by house id (a house without: no money);
    ``checked`` holds "<kind>|<key>" of findings an operator marked as checked: left out."""
    o = options or ReconcileOptions()
    matches, keys = match_with_keys(rows, premises, options=o.match, confirmed=confirmed)
    none = HouseRates()
    report = Report(rows=len(rows), premises=len(premises))
    acc_total: dict[str, Decimal] = {}
    for a in premises:
        acc_total[a.house_id] = acc_total.get(a.house_id, ZERO) + a.area
    covered: set[str] = set()
    taken: set[int] = set()
    true_total: dict[str, Decimal] = {}
    for m in matches:
        if m.premise >= 0 and m.status in (MATCHED, REVIEW):
            taken.add(m.premise)
        if m.status == MATCHED and m.premise >= 0:
            covered.add(m.house_id or "")
        if m.house_id is not None and m.status != DUPLICATE:
            row = rows[m.row]
            area = (
                row.area
                if row.area is not None
                else (premises[m.premise].area if m.premise >= 0 else ZERO)
            )
            true_total[m.house_id] = true_total.get(m.house_id, ZERO) + area
    for i, a in enumerate(premises):  # accounts the register lacks still occupy their area
        if i not in taken and a.house_id in covered:
            true_total[a.house_id] = true_total.get(a.house_id, ZERO) + a.area
    findings: list[Finding] = []

    def house(hid: str) -> HouseSummary:
        s = report.houses.get(hid)
        if s is None:
            s = report.houses[hid] = HouseSummary(
                hid, unmetered_consumption=rates.get(hid, none).unmetered_consumption
            )
        return s

    for m in matches:
        row = rows[m.row]
        key = keys[m.row]
        p = premises[m.premise] if m.premise >= 0 else None
        if m.status == DUPLICATE:
            findings.append(_found(row, m, key, p, "duplicate", ZERO, m.reason, m.house_id))
            continue
        if m.status == REVIEW:
            proposed = f"предложено помещение {p.premise_id}" if p else "предложен только дом"
            findings.append(
                _found(
                    row,
                    m,
                    key,
                    p,
                    "review",
                    ZERO,
                    f"{proposed} (сходство адреса {m.score:.0f}): {m.reason}",
                    m.house_id,
                )
            )
            continue
        hid = m.house_id
        r = rates.get(hid, none) if hid else none
        if p is None:  # unbilled: what the premise would pay by area and by normative
            area = row.area or ZERO
            total = true_total.get(hid, ZERO) if hid else ZERO
            money = kopecks(
                soi_charge(area, total, r)
                + heating_charge(area, r)
                + normative_charge(people(row.residents, row.owners), r, frozenset())
            )
            where = f"дом {hid}" if hid else "дом не найден в учёте"
            findings.append(
                _found(
                    row,
                    m,
                    key,
                    p,
                    "unbilled",
                    money,
                    f"помещение из реестра без лицевого счёта ({where}; {m.reason}); площадь"
                    f" {row.area if row.area is not None else '?'} м²",
                    hid,
                )
            )
            if hid:
                s = house(hid)
                s.unbilled += 1
                s.unbilled_area += area
                s.money += money
            continue
        report.matched += 1
        s = house(p.house_id)
        if row.area is not None and abs(row.area - p.area) > o.area_tolerance:
            soi_acc = soi_charge(p.area, acc_total[p.house_id], r)
            soi_reg = soi_charge(row.area, true_total.get(p.house_id, ZERO), r)
            heat = heating_charge(row.area, r) - heating_charge(p.area, r)
            money = kopecks(abs(soi_reg - soi_acc) + abs(heat))
            s.area_delta += row.area - p.area
            s.heating_delta += kopecks(heat)
            s.soi_moved += kopecks(abs(soi_reg - soi_acc))
            s.money += money
            findings.append(
                _found(
                    row,
                    m,
                    key,
                    p,
                    "area",
                    money,
                    f"площадь {p.area} м² в учёте, {row.area} м² в реестре"
                    f" (отопление {kopecks(heat):+} ₽, ОДН {kopecks(soi_reg - soi_acc):+} ₽"
                    " в месяц)",
                    p.house_id,
                )
            )
        if row.residential is not None and row.residential != p.residential:
            said = {True: "жилое", False: "нежилое"}
            findings.append(
                _found(
                    row,
                    m,
                    key,
                    p,
                    "purpose",
                    ZERO,
                    f"{said[p.residential]} в учёте, {said[row.residential]} в реестре",
                    p.house_id,
                )
            )
        if row.residents is not None or row.owners is not None:
            n_acc = people(p.residents, p.owners)
            n_reg = people(
                row.residents if row.residents is not None else p.residents,
                row.owners if row.owners is not None else p.owners,
            )
            if n_reg != n_acc:
                money = kopecks(abs(normative_charge(n_reg - n_acc, r, p.metered)))
                if money > 0:
                    s.money += money
                    findings.append(
                        _found(
                            row,
                            m,
                            key,
                            p,
                            "residents",
                            money,
                            f"по нормативу начисляется на {n_acc} чел. в учёте, по реестру"
                            f" на {n_reg} чел.",
                            p.house_id,
                        )
                    )
    for i, q in enumerate(premises):
        if i in taken or q.house_id not in covered:
            continue
        r = rates.get(q.house_id, none)
        money = kopecks(soi_charge(q.area, acc_total[q.house_id], r) + heating_charge(q.area, r))
        s = house(q.house_id)
        s.unregistered += 1
        s.money += money
        findings.append(
            Finding(
                "unregistered",
                money,
                f"лицевой счёт без помещения в реестре (площадь {q.area} м²)",
                q.house_id,
                q.premise_id,
                q.account,
                key=f"premise:{q.premise_id}",
            )
        )
    hot = {h for h, s in report.houses.items() if s.unmetered_consumption and s.unbilled}
    kept = [
        replace(f, priority=True) if f.house_id in hot else f
        for f in findings
        if not checked or f"{f.kind}|{f.key}" not in checked
    ]
    kept.sort(key=lambda f: (not f.priority, -f.money, KINDS.index(f.kind), f.where, f.key))
    report.findings = kept
    for f in kept:
        report.counts[f.kind] = report.counts.get(f.kind, 0) + 1
    return report


def ranked_houses(report: Report) -> list[HouseSummary]:
    """The houses of the report: those with unmetered consumption and unbilled premises
    first, then by money at stake, largest first."""
    return sorted(
        report.houses.values(),
        key=lambda h: (not (h.unmetered_consumption and h.unbilled), -h.money, h.house_id),
    )


def _found(
    row: RegisterRow,
    m: Match,
    key: str,
    p: AccountPremise | None,
    kind: str,
    money: Decimal,
    detail: str,
    house_id: str | None,
) -> Finding:
    return Finding(
        kind,
        money,
        detail,
        house_id,
        p.premise_id if p else None,
        p.account if p else None,
        row.where,
        row.address,
        m.score,
        key,
        line=row.line,
    )
