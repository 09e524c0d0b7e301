"""Which premise with an account each register row is: by an operator's confirmed decision,
cadastral number, ГАР/ФИАС GUID, then by address (house fuzzy, flat exact), always with a score.

Addresses are normalized (:mod:`core.addresses`); houses are compared only with account
houses of the same number, корпус and строение, and among those by the Damerau-Levenshtein
similarity of street names (0-100; a different street type or city costs points). A row is
matched when its best house scores from ``accept``, or when its street is one edit (two for
names of 10 letters or more) from that house's street and no other candidate is within two
more edits: a typo with one explanation. Otherwise it is never matched silently: from
``review`` up it is proposed for review with its candidate, below it is unmatched.
A house number is never fuzzed: «д. 4» and «д. 44» are two houses.
Each distinct house address is scored once (:mod:`core.reconcile.houses`: exact street names
joined first, the rest in bulk), so a million rows of a few thousand houses cost a few
thousand fuzzy searches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from core.addresses import (
    Address,
    flat_from_premise_id,
    normalize_address,
    normalize_cadastral,
    normalize_flat,
    normalize_guid,
    split_flat,
)
from core.reconcile.bulk import without_gc
from core.reconcile.houses import HouseOptions, Houses
from core.reconcile.model import AccountPremise, RegisterRow

MATCHED, REVIEW, UNMATCHED, DUPLICATE = "matched", "review", "unmatched", "duplicate"


@dataclass(frozen=True, slots=True)
class MatchOptions:
    accept: float = 90.0
    """House score (0-100) from which an address match is taken without review."""
    review: float = 70.0
    """House score from which a candidate is proposed for review; below it: unmatched."""
    ambiguity: float = 3.0
    """A runner-up house within this many points of the best makes the match a review."""
    street_type_penalty: float = 15.0
    city_penalty: float = 25.0


class Match(NamedTuple):
    """The outcome for one register row (``row`` indexes the rows given)."""

    row: int
    premise: int  # index into the premises given; -1: none
    score: float
    status: str  # matched | review | unmatched | duplicate
    how: str  # confirmed | cadastral | fias | address | none
    house_id: str | None  # the account house the row's address fits best (score ≥ review)
    reason: str = ""


def row_key(row: RegisterRow) -> str:
    """A register row's identity across imports (for operators' decisions): its cadastral
    number, else its ГАР GUID, else its normalized address with the premise number."""
    cadastral = normalize_cadastral(row.cadastral or "")
    if cadastral:
        return f"cad:{cadastral}"
    guid = normalize_guid(row.fias or "")
    if guid:
        return f"fias:{guid}"
    house, flat = split_flat(row.address)
    address = normalize_address(house)
    flat = normalize_flat(row.premise) if row.premise else flat or address.flat
    return f"addr:{replace(address, flat='').text()}|{flat}"


def match_register(
    rows: Sequence[RegisterRow],
    premises: Sequence[AccountPremise],
    *,
    options: MatchOptions | None = None,
    confirmed: Mapping[str, str] | None = None,
) -> list[Match]:
    """One :class:`Match` per row, in the rows' order (see the module for the rules).

    ``confirmed`` maps :func:`row_key` of a row to the premise id an operator confirmed."""
    return match_with_keys(rows, premises, options=options, confirmed=confirmed)[0]


@without_gc
def match_with_keys(
    rows: Sequence[RegisterRow],
    premises: Sequence[AccountPremise],
    *,
    options: MatchOptions | None = None,
    confirmed: Mapping[str, str] | None = None,
) -> tuple[list[Match], list[str]]:
    """The matches and the :func:`row_key` of every row (computed on the way, once).

    Three passes: each row's key and, where ids do not settle it, its address (each distinct
    house text parsed once); the fit of each distinct house address (:class:`Houses`, in
    bulk); then the rows in order (the first row to take a premise keeps it)."""
    o = options or MatchOptions()
    confirmed = confirmed or {}
    by_id = {p.premise_id: i for i, p in enumerate(premises)}
    by_cadastral: dict[str, int] = {}
    by_guid: dict[str, int] = {}
    by_flat: dict[tuple[str, str], int] = {}
    flatless: dict[str, list[int]] = {}
    for i, p in enumerate(premises):
        if p.cadastral and (c := normalize_cadastral(p.cadastral)):
            by_cadastral[c] = i
        if p.fias and (g := normalize_guid(p.fias)):
            by_guid[g] = i
        flat = flat_from_premise_id(p.premise_id)
        if flat:
            by_flat.setdefault((p.house_id, flat), i)
        else:
            flatless.setdefault(p.house_id, []).append(i)
    # pass 1: keys; the rows that need their address, as (distinct house address, flat)
    parsed: dict[str, tuple[int, str, str]] = {}  # house text -> (house, its text, its flat)
    distinct: dict[Address, int] = {}
    flats: dict[str, str] = {}
    keys: list[str] = []
    settled: list[tuple[int, str] | None] = []  # (premise, how) by id or decision
    where: list[tuple[int, str]] = []  # (house address index, flat); (-1, "") when settled
    for row in rows:
        c = normalize_cadastral(row.cadastral) if row.cadastral else None
        g = normalize_guid(row.fias) if row.fias and not c else None
        house, flat = -1, ""
        if c or g:
            key = f"cad:{c}" if c else f"fias:{g}"
        else:
            house, flat, text = _address(row, parsed, distinct, flats)
            key = f"addr:{text}|{flat}"
        keys.append(key)
        hit: tuple[int, str] | None = None
        if confirmed and (pid := confirmed.get(key)) is not None and pid in by_id:
            hit = (by_id[pid], "confirmed")
        elif c and c in by_cadastral:
            hit = (by_cadastral[c], "cadastral")
        elif g and g in by_guid:
            hit = (by_guid[g], "fias")
        elif house < 0:
            house, flat, _ = _address(row, parsed, distinct, flats)
        settled.append(hit)
        where.append((house, flat) if hit is None else (-1, ""))
    # pass 2: every distinct house address against the account houses, in bulk
    houses = Houses(
        premises, HouseOptions(o.accept, o.ambiguity, o.street_type_penalty, o.city_penalty)
    )
    fits = houses.fit_many(list(distinct))
    # pass 3: the rows in order
    taken: dict[int, int] = {}  # premise -> the row that took it
    out: list[Match] = []
    leftover: dict[str, list[int]] = {}  # house -> rows without a flat match (for flatless)
    review = o.review
    for r, hit in enumerate(settled):
        if hit is not None:
            i, how = hit
            score, status, why = 100.0, MATCHED, ""
        else:
            house, flat = where[r]
            house_id, score, why = fits[house]
            if house_id is None or score < review:
                reason = "в учёте нет дома с таким номером" if house_id is None else (
                    f"ближайший дом учёта: сходство адреса {score:.0f}"
                )  # fmt: skip
                out.append(Match(r, -1, score, UNMATCHED, "none", None, reason))
                continue
            status, how = (REVIEW if why else MATCHED), "address"
            i = by_flat.get((house_id, flat), -1) if flat else -1
            if i < 0:
                reason = why or f"в доме нет помещения «{flat}»"
                out.append(Match(r, -1, score, status, "none", house_id, reason))
                leftover.setdefault(house_id, []).append(len(out) - 1)
                continue
        if status == MATCHED:
            if i in taken:
                reason = f"то же помещение, что {rows[taken[i]].where}"
                out.append(Match(r, i, score, DUPLICATE, how, premises[i].house_id, reason))
                continue
            taken[i] = r
        out.append(Match(r, i, score, status, how, premises[i].house_id, why))
    # premises whose id carries no flat number (a shop): proposed to the one leftover
    # non-residential row of their house, for review, never taken silently
    for house_id, free in flatless.items():
        free = [i for i in free if i not in taken]
        left = [k for k in leftover.get(house_id, []) if rows[out[k].row].residential is False]
        if len(free) == 1 and len(left) == 1:
            m = out[left[0]]
            out[left[0]] = Match(
                m.row, free[0], m.score, REVIEW, "address", house_id,
                "единственное нежилое помещение дома без номера и в реестре, и в учёте",
            )  # fmt: skip
    return out, keys


def _address(
    row: RegisterRow,
    parsed: dict[str, tuple[int, str, str]],
    distinct: dict[Address, int],
    flats: dict[str, str],
) -> tuple[int, str, str]:
    """(index of the row's house address in ``distinct``, the flat, the house address text)."""
    house_text, flat = split_flat(row.address)
    hit = parsed.get(house_text)
    if hit is None:
        a = normalize_address(house_text)
        bare = Address(a.city, a.street, a.street_type, a.house, a.corpus, a.building)
        index = distinct.setdefault(bare, len(distinct))
        hit = parsed[house_text] = (index, bare.text(), a.flat)
    if row.premise:
        own = flats.get(row.premise)
        if own is None:
            own = flats[row.premise] = normalize_flat(row.premise)
        return hit[0], own, hit[1]
    return hit[0], flat or hit[2], hit[1]
